package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestCoalesce: a newer Keys message replaces older queued ones for its
// recipients, except for a recipient with chat queued in between (sealed
// with the older key); a newer Ack to a member replaces an older one to
// it; nothing is reordered; a dropped message's waiter is told.
func TestCoalesce(t *testing.T) {
	ctx := context.Background()
	typed := func(typ MessageType, to ...uint32) *pending {
		return &pending{ctx: ctx, to: to, typ: typ}
	}
	keys := func(_ uint8, to ...uint32) *pending { return typed(TypeKeys, to...) }
	var q []*pending
	var dropped []*pending
	add := func(p *pending) {
		var d []*pending
		q, d = coalesce(q, p)
		dropped = append(dropped, d...)
	}
	hello := typed(TypeHello, 2)
	k1 := keys(1, 2, 3)
	ack2a := typed(TypeAck, 2)
	chat := typed(TypeChat, 3)
	ack3 := typed(TypeAck, 3)
	add(hello)
	add(k1)
	add(ack2a)
	add(chat)
	add(ack3)
	k2 := keys(2, 2, 3, 4)
	add(k2)
	ack2b := typed(TypeAck, 2)
	add(ack2b)
	// k1 stays for 3 only (chat sealed with it follows); ack2a is gone.
	want := []*pending{hello, k1, chat, ack3, k2, ack2b}
	if !slices.Equal(q, want) {
		t.Fatalf("queue %v, want %v", types(q), types(want))
	}
	if !slices.Equal(k1.to, []uint32{3}) {
		t.Errorf("older keys go to %v, want [3]", k1.to)
	}
	if !slices.Equal(dropped, []*pending{ack2a}) {
		t.Errorf("dropped %v", types(dropped))
	}
	// Without chat in between the older keys go entirely.
	k3 := keys(3, 2, 3, 4)
	add(k3)
	if slices.Contains(q, k2) || !slices.Contains(dropped, k2) || !slices.Contains(q, k1) {
		t.Errorf("after k3: queue %v, dropped %v", types(q), types(dropped))
	}
	if !slices.Equal(k3.to, []uint32{2, 3, 4}) {
		t.Errorf("newest keys go to %v", k3.to)
	}
}

func types(q []*pending) []string {
	var s []string
	for _, p := range q {
		s = append(s, fmt.Sprint(p.typ, p.to))
	}
	return s
}
