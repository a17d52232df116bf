package app

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseChatHTML(t *testing.T) {
	tests := []struct {
		in     string
		text   string
		links  []ChatLink
		images int
	}{
		{"hello", "hello", nil, 0},
		{"hello <b>bold</b> <i>world</i>", "hello bold world", nil, 0},
		{"  lots   of\n\t space  ", "lots of space", nil, 0},
		{"<p>first</p><p>second</p>", "first\nsecond", nil, 0},
		{"a<br>b<br/>c<br />d", "a\nb\nc\nd", nil, 0},
		{"a<br><br><br><br><br>b", "a\n\nb", nil, 0}, // at most one empty line
		{"&lt;tag&gt; &amp; &quot;q&quot; &#39;s&#39; &eacute; &#x1F600; &#233;", `<tag> & "q" 's' é 😀 é`, nil, 0},
		{"x &bogus; y", "x &bogus; y", nil, 0},
		{"x &notanentity; y", "x ¬anentity; y", nil, 0}, // HTML5 legacy entity, as browsers read it
		{"a < b and c > d", "a < b and c > d", nil, 0},
		{"<pre>  keep\n    this</pre>after", "  keep\n    this\nafter", nil, 0},
		{"<ul><li>one</li><li>two</li></ul>end", "- one\n- two\nend", nil, 0},
		{"<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>", "1\t2\n3", nil, 0},
		{"<h1>Title</h1>body", "Title\nbody", nil, 0},
		{`see <a href="https://example.com/a?b=1&amp;c=2">the site</a>.`, "see the site.",
			[]ChatLink{{"the site", "https://example.com/a?b=1&c=2"}}, 0},
		{`<a href="http://x.example"></a>`, "http://x.example", []ChatLink{{"http://x.example", "http://x.example"}}, 0},
		{`<a href="mumble://h.example/Lab">join</a> <a href="mailto:a@b.example">mail</a>`, "join mail",
			[]ChatLink{{"join", "mumble://h.example/Lab"}, {"mail", "mailto:a@b.example"}}, 0},
		{`<a href="HTTPS://Example.com">x</a>`, "x", []ChatLink{{"x", "https://Example.com"}}, 0},
		// Not links: dangerous or useless schemes, relative references.
		{`<a href="javascript:alert(1)">click</a>`, "click", nil, 0},
		{`<a href=" JaVaScRiPt:alert(1)">click</a>`, "click", nil, 0},
		{"<a href=\"java\tscript:alert(1)\">click</a>", "click", nil, 0},
		{`<a href="data:text/html,<script>alert(1)</script>">click</a>`, "click", nil, 0},
		{`<a href="file:///etc/passwd">f</a>`, "f", nil, 0},
		{`<a href="/relative">r</a>`, "r", nil, 0},
		{`<a href="https:">r</a>`, "r", nil, 0},
		{`<a>no href</a>`, "no href", nil, 0},
		// Images and embedded content: placeholders, nothing kept that could be fetched.
		{`<img src="https://tracker.example/pixel.gif">`, ImagePlaceholder, nil, 1},
		{`look<img src="data:image/png;base64,iVBORw0KGgo=">here`, "look [image] here", nil, 1},
		{`<img src=x onerror="fetch('https://evil.example')">`, ImagePlaceholder, nil, 1},
		{`<a href="https://example.com"><img src="https://example.com/i.png"></a>`, "[image] https://example.com",
			[]ChatLink{{"https://example.com", "https://example.com"}}, 1},
		{`<video src="https://v.example/v.mp4">fallback text</video>after`, "[media] after", nil, 1},
		{`<audio><source src="https://a.example/a.ogg"></audio>`, MediaPlaceholder, nil, 1},
		{`<iframe src="https://evil.example"><p>inside</p></iframe>x`, "[media] x", nil, 1},
		{`<object data="https://evil.example/x.swf"><embed src="y"></object>z`, "[media] z", nil, 1},
		{`<embed src="https://evil.example/x">z`, "[media] z", nil, 1},
		{`<svg><image href="https://evil.example/x.svg"/><text>hidden</text></svg>shown`, "[media] shown", nil, 1},
		{`<svg><svg></svg>still hidden</svg>shown`, "[media] shown", nil, 1},
		{`<picture><source srcset="https://e.example/a.webp"><img src="https://e.example/a.png"></picture>`, MediaPlaceholder, nil, 1},
		// Hidden content is dropped.
		{`<script>alert("x")</script>ok`, "ok", nil, 0},
		{`<style>body{background:url(https://evil.example/bg.png)}</style>ok`, "ok", nil, 0},
		{`<head><title>t</title><link rel="stylesheet" href="https://evil.example/s.css"></head>ok`, "ok", nil, 0},
		{`<div style="background-image:url('https://evil.example/x.png')">styled</div>`, "styled", nil, 0},
		{`<meta http-equiv="refresh" content="0;url=https://evil.example">ok`, "ok", nil, 0},
		{`<!-- <img src="https://evil.example"> -->ok`, "ok", nil, 0},
		{`<noscript><img src="https://evil.example"></noscript>ok`, "ok", nil, 0},
		// Disguises and control characters are removed.
		{"invoice\u202Efdp.exe", "invoicefdp.exe", nil, 0},
		{"a\u2066b\u2069c", "abc", nil, 0},
		{"bell\x07 esc\x1b[31mred", "bell esc[31mred", nil, 0},
		{"nul\x00byte", "nulbyte", nil, 0},
		{"bad \xff utf8", "bad \uFFFD utf8", nil, 0},
		// Malformed markup.
		{"unclosed <b", "unclosed", nil, 0},
		{"<b><i>misnested</b></i>", "misnested", nil, 0},
		{"</p></p></div>stray", "stray", nil, 0},
		{"<a href='https://a.example'>one<a href='https://b.example'>two</a>", "onetwo",
			[]ChatLink{{"one", "https://a.example"}, {"two", "https://b.example"}}, 0},
		{"<script>never closed", "", nil, 0},
		{"", "", nil, 0},
	}
	for _, tt := range tests {
		m := ParseChatHTML(tt.in)
		if m.Text != tt.text || !reflect.DeepEqual(m.Links, tt.links) || m.Images != tt.images {
			t.Errorf("ParseChatHTML(%q)\n got %q %v %d\nwant %q %v %d", tt.in, m.Text, m.Links, m.Images, tt.text, tt.links, tt.images)
		}
	}
}

func TestParseChatHTMLLimits(t *testing.T) {
	huge := strings.Repeat("word ", maxChatText) // 5 runes per word
	m := ParseChatHTML(huge)
	if !m.Truncated || utf8.RuneCountInString(m.Text) > maxChatText {
		t.Errorf("huge message: truncated=%v, %d runes", m.Truncated, utf8.RuneCountInString(m.Text))
	}
	var b strings.Builder
	for i := 0; i < 2*maxChatLinks; i++ {
		b.WriteString(`<a href="https://example.com/">x</a>`)
	}
	if m := ParseChatHTML(b.String()); len(m.Links) != maxChatLinks {
		t.Errorf("%d links kept, want %d", len(m.Links), maxChatLinks)
	}
	long := `<a href="https://example.com/` + strings.Repeat("a", maxChatURL) + `">x</a>`
	if m := ParseChatHTML(long); len(m.Links) != 0 {
		t.Error("over-long URL kept as a link")
	}
	longText := `<a href="https://example.com/">` + strings.Repeat("t", 2*maxChatLinkText) + `</a>`
	if m := ParseChatHTML(longText); len(m.Links) != 1 || utf8.RuneCountInString(m.Links[0].Text) != maxChatLinkText {
		t.Error("link text not truncated")
	}
	// A big inline image (as Mumble sends them) is just a placeholder.
	img := `<img src="data:image/jpeg;base64,` + strings.Repeat("QUJD", 1<<15) + `">`
	if m := ParseChatHTML(img); m.Text != ImagePlaceholder || m.Images != 1 {
		t.Errorf("inline image: %q", m.Text)
	}
}

// checkChatInvariants are the promises ParseChatHTML makes for any input.
func checkChatInvariants(t *testing.T, in string, m ChatMessage) {
	t.Helper()
	if !utf8.ValidString(m.Text) {
		t.Fatalf("ParseChatHTML(%q): invalid UTF-8 text", in)
	}
	if utf8.RuneCountInString(m.Text) > maxChatText {
		t.Fatalf("ParseChatHTML(%q): text longer than the limit", in)
	}
	if i := strings.IndexFunc(m.Text, isHiddenRune); i >= 0 {
		t.Fatalf("ParseChatHTML(%q): hidden character %q in text %q", in, m.Text[i:], m.Text)
	}
	if len(m.Links) > maxChatLinks {
		t.Fatalf("ParseChatHTML(%q): %d links", in, len(m.Links))
	}
	for _, l := range m.Links {
		u, err := url.Parse(l.URL)
		if err != nil || !linkSchemes[u.Scheme] || len(l.URL) > maxChatURL {
			t.Fatalf("ParseChatHTML(%q): link %q is not a plain http/https/mumble/mailto URL", in, l.URL)
		}
		if !utf8.ValidString(l.Text) || strings.IndexFunc(l.Text, isHiddenRune) >= 0 || utf8.RuneCountInString(l.Text) > maxChatLinkText {
			t.Fatalf("ParseChatHTML(%q): bad link text %q", in, l.Text)
		}
	}
	if !strings.Contains(in, "<") && (m.Images != 0 || len(m.Links) != 0) {
		t.Fatalf("ParseChatHTML(%q): images or links from text without markup", in)
	}
}

// FuzzParseChatHTML feeds arbitrary markup: ParseChatHTML must never panic,
// and its output must keep its promises.
func FuzzParseChatHTML(f *testing.F) {
	for _, s := range []string{
		"hello <b>world</b>",
		`<a href="https://example.com">x</a><img src="data:image/png;base64,AA==">`,
		"<pre>a\n b</pre><ul><li>x</li></ul><table><tr><td>1</td></tr></table>",
		"<script>x</script><style>y</style><svg><text>z</text></svg>",
		"&lt;&#x1F600;&#0;&#xD800;\u202E\x00\xff",
		"<a href='javascript:x'>y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkChatInvariants(t, s, ParseChatHTML(s))
	})
}

func TestFormatChatMessage(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"hello", "hello"},
		{"a < b & c > d", "a &lt; b &amp; c &gt; d"},
		{`"quoted" 'single'`, "&#34;quoted&#34; &#39;single&#39;"},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"line1\nline2\r\nline3", "line1<br />line2<br />line3"},
		{"trailing  \n\n", "trailing"},
		{"  leading kept", "  leading kept"},
		{"tab\there", "tab\there"},
		{"😀 café", "😀 café"},
	}
	for _, tt := range tests {
		got, err := FormatChatMessage(tt.in, 0)
		if err != nil || got != tt.want {
			t.Errorf("FormatChatMessage(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "   ", "\n\t\n"} {
		if _, err := FormatChatMessage(in, 0); !errors.Is(err, ErrEmptyMessage) {
			t.Errorf("FormatChatMessage(%q) err = %v, want ErrEmptyMessage", in, err)
		}
	}
	for _, in := range []string{"bell\x07", "esc\x1b[31m", "nul\x00", "\xff"} {
		if _, err := FormatChatMessage(in, 0); err == nil {
			t.Errorf("FormatChatMessage(%q) accepted", in)
		}
	}
	// Length as murmur counts it: UTF-16 code units of the escaped HTML.
	if _, err := FormatChatMessage(strings.Repeat("a", 10), 10); err != nil {
		t.Errorf("10 characters with limit 10: %v", err)
	}
	var tooLong *MessageTooLongError
	if _, err := FormatChatMessage(strings.Repeat("a", 11), 10); !errors.As(err, &tooLong) || tooLong.Length != 11 || tooLong.Max != 10 {
		t.Errorf("11 characters with limit 10: %v", err)
	}
	if _, err := FormatChatMessage("<", 3); !errors.As(err, &tooLong) || tooLong.Length != 4 {
		t.Errorf("'<' escapes to 4 characters: %v", err)
	}
	if _, err := FormatChatMessage("😀😀", 3); !errors.As(err, &tooLong) || tooLong.Length != 4 {
		t.Errorf("two emoji are 4 UTF-16 units: %v", err)
	}
	if _, err := FormatChatMessage("a\nb", 7); !errors.As(err, &tooLong) || tooLong.Length != 8 {
		t.Errorf("a<br />b is 8 characters: %v", err)
	}
}

// TestChatRoundTrip sends plain text through FormatChatMessage and reads it
// back with ParseChatHTML, as a receiving Tumble would.
func TestChatRoundTrip(t *testing.T) {
	for _, s := range []string{
		"hello",
		"<b>not bold</b> & &amp; stays literal",
		"line one\nline two",
		"javascript:alert(1) <img src=x>",
		"emoji 😀 and café",
	} {
		html, err := FormatChatMessage(s, 5000)
		if err != nil {
			t.Fatal(err)
		}
		m := ParseChatHTML(html)
		if m.Text != s || len(m.Links) != 0 || m.Images != 0 {
			t.Errorf("round trip of %q gave %q (links %v, images %d)", s, m.Text, m.Links, m.Images)
		}
	}
}
