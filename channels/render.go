package channels

// Rendered is a reply as a channel sends it.
type Rendered struct {
	Text     string `json:"text"`
	Segments int    `json:"segments,omitempty"`
	Encoding string `json:"encoding,omitempty"`
}

// Render writes a reply's text for the channel: SMS in GSM-7 with its segment count;
// WhatsApp and web as they are.
func Render(channel, text string) Rendered {
	if channel != "sms" {
		return Rendered{Text: text}
	}
	t := GSMText(text)
	n, enc := Segments(t)
	return Rendered{Text: t, Segments: n, Encoding: enc}
}
