package tornet

import "testing"

func TestCellStatsParsing(t *testing.T) {
	cc := &CellCounter{client: map[string]int{}, onion: map[string]int{}}
	cc.add("CELL_STATS ID=7 OutboundQueue=4 OutboundConn=2 OutboundAdded=relay:9 OutboundRemoved=relay:5,relay_early:1,destroy:1 OutboundTime=relay:0", false)
	cc.add("CELL_STATS ID=7 OutboundQueue=4 OutboundConn=2 OutboundRemoved=relay:4", false)
	cc.add("CELL_STATS InboundQueue=3 InboundConn=1 InboundRemoved=relay:50 OutboundRemoved=relay:50", false) // relayed: not ours
	cc.add("CELL_STATS ID=2 OutboundRemoved=relay:3,relay:x,relay:-4", true)
	cc.add("CELL_STATS ID=5 OutboundRemoved=relay:2", true)
	cc.add("HS_DESC UPLOADED x", true)
	if got := cc.client["7"]; got != 10 {
		t.Errorf("client circuit 7: %d relay cells, want 10", got)
	}
	if len(cc.client) != 1 {
		t.Errorf("client circuits %v, want only 7", cc.client)
	}
	if cc.OnionSent() != 5 || cc.Events() != 4 {
		t.Errorf("onion %d cells, %d events; want 5 and 4", cc.OnionSent(), cc.Events())
	}
	if by := cc.OnionSentByCircuit(); len(by) != 2 || by["2"] != 3 || by["5"] != 2 {
		t.Errorf("onion cells by circuit %v, want 2:3 5:2", by)
	}
}
