package app

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Placeholders put into chat text where the HTML had embedded content.
// Nothing behind them is ever fetched or decoded.
const (
	ImagePlaceholder = "[image]"
	MediaPlaceholder = "[media]"
)

// Limits on what ParseChatHTML returns, so a hostile server or user cannot
// flood the interface.
const (
	maxChatText     = 64 << 10 // runes of text
	maxChatLinks    = 64
	maxChatLinkText = 512
	maxChatURL      = 2048
)

// ChatMessage is a server text message reduced to what Tumble shows: plain
// text and a list of the links it contained. Nothing in it refers to content
// that would be loaded automatically.
type ChatMessage struct {
	// Text is the message as plain text. Line breaks (<br>, paragraphs,
	// list items, table rows) are "\n"; images are ImagePlaceholder,
	// audio, video, frames and other embedded objects MediaPlaceholder.
	Text string
	// Links are the links in the message, in order, for display only: a
	// UI may offer to copy or open one when the user asks, never by
	// itself.
	Links []ChatLink
	// Images counts the images and media replaced by placeholders.
	Images int
	// Truncated reports that the text was cut at the length limit.
	Truncated bool
}

// ChatLink is one link of a chat message.
type ChatLink struct {
	// Text is the link's visible text (the URL itself if it had none).
	Text string
	// URL is the target: an http, https, mumble or mailto URL. Other
	// schemes (javascript:, data:, file:, relative links) are not links.
	URL string
}

// linkSchemes are the URL schemes kept as links.
var linkSchemes = map[string]bool{"http": true, "https": true, "mumble": true, "mailto": true}

// ParseChatHTML reduces a text message, channel description or user comment
// (Mumble sends Qt rich text, a subset of HTML) to plain text. Tags are
// dropped, entities decoded, whitespace collapsed as a browser would,
// <br>, <p> and other blocks become line breaks, <pre> keeps its spacing.
// Scripts, styles and the document head are dropped with their content.
// Images (including data: URIs) and any other embedded content are replaced
// by placeholders and never fetched. Control characters and bidirectional
// override characters (which can disguise text) are removed. It never fails
// and never panics: malformed HTML is read the way HTML5 parsers read it.
func ParseChatHTML(s string) ChatMessage {
	var w chatWriter
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var skip struct {
		tag   atom.Atom
		depth int
	}
	pre := 0
	var link *ChatLink
	var linkText strings.Builder
	endLink := func() {
		if link == nil {
			return
		}
		text := collapseSpace(linkText.String())
		if text == "" {
			text = link.URL
			w.text(text, false)
		}
		link.Text = truncateRunes(text, maxChatLinkText)
		if len(w.msg.Links) < maxChatLinks {
			w.msg.Links = append(w.msg.Links, *link)
		}
		link = nil
		linkText.Reset()
	}
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			if z.Err() != io.EOF {
				// Only ErrBufferExceeded is possible with a strings.Reader;
				// keep what was read.
				w.truncated()
			}
			break
		}
		if w.full() {
			w.truncated()
			break
		}
		switch tt {
		case xhtml.TextToken:
			if skip.depth > 0 {
				continue
			}
			t := string(z.Text())
			w.text(t, pre > 0)
			if link != nil {
				linkText.WriteString(t)
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			start := tt != xhtml.EndTagToken
			selfClosing := tt == xhtml.SelfClosingTagToken || voidElements[a]
			if skip.depth > 0 {
				if a == skip.tag {
					if !start {
						skip.depth--
					} else if !selfClosing {
						skip.depth++
					}
				}
				continue
			}
			switch {
			case a == atom.Img || a == atom.Image:
				if start {
					w.placeholder(ImagePlaceholder)
				}
			case mediaElements[a]:
				if start {
					w.placeholder(MediaPlaceholder)
					if !selfClosing {
						skip.tag, skip.depth = a, 1
					}
				}
			case hiddenElements[a]:
				if start && !selfClosing {
					skip.tag, skip.depth = a, 1
				}
			case a == atom.Br:
				w.lineBreak()
			case a == atom.A:
				endLink()
				if start && !selfClosing && hasAttr {
					if u := chatLinkURL(attr(z, "href")); u != "" {
						link = &ChatLink{URL: u}
					}
				}
			case a == atom.Pre:
				w.block()
				if start {
					pre++
				} else if pre > 0 {
					pre--
				}
			case a == atom.Li:
				w.block()
				if start {
					w.text("- ", true)
				}
			case a == atom.Td || a == atom.Th:
				if start {
					w.cellBreak()
				}
			case blockElements[a]:
				w.block()
			}
		}
	}
	endLink()
	return w.result()
}

// attr returns the value of the named attribute of the current tag.
func attr(z *xhtml.Tokenizer, name string) string {
	for {
		k, v, more := z.TagAttr()
		if string(k) == name {
			return string(v)
		}
		if !more {
			return ""
		}
	}
}

// chatLinkURL returns href normalized if it is a link worth showing, or "".
func chatLinkURL(href string) string {
	href = strings.TrimSpace(href)
	if href == "" || len(href) > maxChatURL {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil || !linkSchemes[strings.ToLower(u.Scheme)] {
		return ""
	}
	if u.Scheme != "mailto" && u.Host == "" {
		return ""
	}
	out := u.String()
	if len(out) > maxChatURL || strings.IndexFunc(out, isHiddenRune) >= 0 {
		return ""
	}
	return out
}

var (
	// voidElements never have content or an end tag.
	voidElements = map[atom.Atom]bool{
		atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true,
		atom.Hr: true, atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true,
		atom.Source: true, atom.Track: true, atom.Wbr: true,
	}
	// mediaElements embed content; they become MediaPlaceholder and their
	// content (fallback text, sources) is dropped.
	mediaElements = map[atom.Atom]bool{
		atom.Audio: true, atom.Video: true, atom.Iframe: true, atom.Frame: true,
		atom.Frameset: true, atom.Object: true, atom.Embed: true, atom.Applet: true,
		atom.Svg: true, atom.Math: true, atom.Canvas: true, atom.Picture: true,
	}
	// hiddenElements are not displayed; their content is dropped.
	hiddenElements = map[atom.Atom]bool{
		atom.Script: true, atom.Style: true, atom.Head: true, atom.Title: true,
		atom.Template: true, atom.Noscript: true, atom.Noembed: true, atom.Noframes: true,
		atom.Datalist: true, atom.Select: true,
	}
	// blockElements start and end on their own line.
	blockElements = map[atom.Atom]bool{
		atom.P: true, atom.Div: true, atom.Ul: true, atom.Ol: true, atom.Dl: true,
		atom.Dt: true, atom.Dd: true, atom.Table: true, atom.Tr: true, atom.Thead: true,
		atom.Tbody: true, atom.Tfoot: true, atom.Caption: true, atom.Blockquote: true,
		atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true,
		atom.H6: true, atom.Hr: true, atom.Section: true, atom.Article: true,
		atom.Header: true, atom.Footer: true, atom.Nav: true, atom.Aside: true,
		atom.Address: true, atom.Center: true, atom.Form: true, atom.Fieldset: true,
		atom.Figure: true, atom.Figcaption: true, atom.Main: true, atom.Body: true,
		atom.Html: true, atom.Details: true, atom.Summary: true, atom.Textarea: true,
		atom.Legend: true, atom.Menu: true, atom.Listing: true, atom.Plaintext: true,
		atom.Xmp: true,
	}
)

// chatWriter accumulates plain text with HTML whitespace rules.
type chatWriter struct {
	msg          ChatMessage
	b            strings.Builder
	runes        int
	pendingSpace bool
	newlines     int // newlines at the end of b
}

func (w *chatWriter) full() bool { return w.runes >= maxChatText }

func (w *chatWriter) truncated() { w.msg.Truncated = true }

// text appends s; outside <pre> runs of white space become one space.
func (w *chatWriter) text(s string, pre bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for _, r := range s {
		switch {
		case r == '\r':
			continue
		case r == '\n' && pre:
			w.lineBreak()
		case r == '\t' && pre:
			w.put('\t')
		case isHTMLSpace(r) && !pre:
			if w.b.Len() > 0 && w.newlines == 0 {
				w.pendingSpace = true
			}
		case isHiddenRune(r):
			continue
		default:
			if w.pendingSpace {
				w.put(' ')
				w.pendingSpace = false
			}
			w.put(r)
		}
	}
}

func (w *chatWriter) put(r rune) {
	if w.full() {
		w.truncated()
		return
	}
	w.b.WriteRune(r)
	w.runes++
	if r == '\n' {
		w.newlines++
	} else {
		w.newlines = 0
	}
}

// lineBreak ends the line (<br>); at most one empty line in a row.
func (w *chatWriter) lineBreak() {
	w.pendingSpace = false
	if w.b.Len() == 0 || w.newlines >= 2 {
		return
	}
	w.put('\n')
}

// block makes sure what follows starts on a new line.
func (w *chatWriter) block() {
	w.pendingSpace = false
	if w.b.Len() > 0 && w.newlines == 0 {
		w.put('\n')
	}
}

// cellBreak separates table cells on one line.
func (w *chatWriter) cellBreak() {
	if w.b.Len() > 0 && w.newlines == 0 {
		w.pendingSpace = false
		w.put('\t')
	}
}

// placeholder writes a placeholder as a word of its own.
func (w *chatWriter) placeholder(p string) {
	w.msg.Images++
	if w.b.Len() > 0 && w.newlines == 0 {
		w.pendingSpace = true
	}
	w.text(p, false)
	w.pendingSpace = true
}

func (w *chatWriter) result() ChatMessage {
	w.msg.Text = strings.TrimRightFunc(w.b.String(), unicode.IsSpace)
	return w.msg
}

// isHTMLSpace reports the characters HTML treats as inter-word space.
func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r'
}

// isHiddenRune reports characters that are removed from chat text: control
// characters other than line breaks and tabs, and the bidirectional
// embedding, override and isolate controls that can make text read
// differently from what it is (e.g. disguise a file name or link).
func isHiddenRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// collapseSpace trims s and collapses inner white space to single spaces.
func collapseSpace(s string) string {
	s = strings.Map(func(r rune) rune {
		if isHiddenRune(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Join(strings.FieldsFunc(s, isHTMLSpace), " ")
}

// truncateRunes cuts s to at most n runes, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ErrEmptyMessage is returned by FormatChatMessage for a message with no
// visible text.
var ErrEmptyMessage = errors.New("message is empty")

// MessageTooLongError is returned by FormatChatMessage when the message is
// longer than the server allows.
type MessageTooLongError struct {
	// Length is the message's length as the server counts it.
	Length int
	// Max is the server's limit (ServerConfig.message_length).
	Max int
}

// Error says how long the message is and what the limit is.
func (e *MessageTooLongError) Error() string {
	return fmt.Sprintf("message is %d characters long, this server allows %d", e.Length, e.Max)
}

// FormatChatMessage turns what the user typed into the HTML a Mumble server
// expects: special characters escaped, line breaks as <br />. Trailing white
// space is dropped. maxLength is the server's message_length (0 means no
// limit); the length is counted the way murmur counts it, in UTF-16 code
// units of the HTML, so a message that passes here is not refused for its
// length. Control characters other than line breaks and tabs are refused.
func FormatChatMessage(text string, maxLength int) (string, error) {
	if !utf8.ValidString(text) {
		return "", errors.New("app: chat message is not valid UTF-8")
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.TrimRightFunc(text, unicode.IsSpace)
	if strings.TrimSpace(text) == "" {
		return "", fmt.Errorf("app: %w", ErrEmptyMessage)
	}
	for _, r := range text {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return "", fmt.Errorf("app: chat message contains the control character %U", r)
		}
	}
	out := strings.ReplaceAll(html.EscapeString(text), "\n", "<br />")
	if n := len(utf16.Encode([]rune(out))); maxLength > 0 && n > maxLength {
		return "", fmt.Errorf("app: %w", &MessageTooLongError{Length: n, Max: maxLength})
	}
	return out, nil
}
