package ui

import (
	"testing"

	"github.com/tumble-voip/tumble/app"
)

func TestDescriptionText(t *testing.T) {
	tests := []struct {
		ch   app.ChannelView
		want string
	}{
		{app.ChannelView{}, "No description."},
		{app.ChannelView{DescriptionPending: true}, "Loading the description..."},
		{app.ChannelView{Description: "Be kind " + app.ImagePlaceholder}, "Be kind " + app.ImagePlaceholder},
		{app.ChannelView{Description: "see rules and https://a.example", DescriptionLinks: []app.ChatLink{
			{Text: "rules", URL: "https://example.com/r"}, {Text: "https://a.example", URL: "https://a.example"}}},
			"see rules and https://a.example\nLink: rules -> https://example.com/r\nLink: https://a.example"},
	}
	for _, tt := range tests {
		if got := descriptionText(&tt.ch); got != tt.want {
			t.Errorf("descriptionText(%+v) = %q, want %q", tt.ch, got, tt.want)
		}
	}
	if got := channelName(&app.ChannelView{ID: 0}); got != "Root" {
		t.Errorf("unnamed root shows as %q", got)
	}
}
