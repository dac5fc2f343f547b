package retrieval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Aspects a citizen can ask about, in the order a general answer walks them.
const (
	AspectRequisitos = "requisitos"
	AspectMonto      = "monto"
	AspectComo       = "como"
	AspectDocumentos = "documentos"
	AspectFechas     = "fechas"
	AspectCosto      = "costo"
	AspectGeneral    = "general"
)

// Ficha is one benefit or service of the catalogue. See docs/catalogue.md.
type Ficha struct {
	Slug string `json:"slug"`
	// Aliases are the slugs of fichas merged into this one (two fichas of one service): the
	// questions, links, stored conversations and cases that name them reach this ficha.
	Aliases     []string `json:"aliases,omitempty"`
	Title       string   `json:"title"`
	Institution string   `json:"institution"`
	Topics      []string `json:"topics"`
	Summary     string   `json:"summary"`
	Keywords    []string `json:"keywords,omitempty"`
	URL         string   `json:"url"`
	ValidFrom   Date     `json:"valid_from"`
	Reviewed    Date     `json:"reviewed"`
	// Sources are the public pages the ficha's facts were checked against.
	Sources  []Source `json:"sources,omitempty"`
	Sections Sections `json:"sections"`
	// Questions are what citizens ask about the ficha, in their words (catalogue/questions):
	// an indexed field of its own, and the training data of the learned model.
	Questions []string `json:"-"`
	// FichasOnly holds the questions read from a `*.fichas.tsv` file: they teach the fichas,
	// scope, person and follow-up models and are indexed like any other, but are not the
	// emergency models' ordinary text, so a round of questions about fichas leaves those
	// models' reading of emergencies as it was (docs/eval.md, twenty-fourth session). Keyed
	// by the text: the same question in an ordinary file of the ficha counts as fichas-only.
	FichasOnly map[string]bool `json:"-"`

	// Source is where the ficha was loaded from ("file:line"), for error messages.
	Source string `json:"-"`
}

// Source is a public page a ficha's facts were checked against: what it supports (a
// section, an amount, a rule) and the day it was read.
type Source struct {
	URL      string `json:"url"`
	Supports string `json:"supports"`
	Read     Date   `json:"read"`
}

// Sections are the parts of a ficha an answer is taken from.
type Sections struct {
	Requisitos []Item `json:"requisitos,omitempty"`
	Monto      []Item `json:"monto,omitempty"`
	Como       *Como  `json:"como,omitempty"`
	Documentos []Item `json:"documentos,omitempty"`
	Fechas     []Item `json:"fechas,omitempty"`
	Costo      []Item `json:"costo,omitempty"`
}

// Como says how to do the procedure, by channel.
type Como struct {
	Online []Item `json:"online,omitempty"`
	Office []Item `json:"office,omitempty"`
	Phone  []Item `json:"phone,omitempty"`
}

// Items returns the items of one aspect's section (como: every channel in order), or nil.
func (s Sections) Items(aspect string) []Item {
	switch aspect {
	case AspectRequisitos:
		return s.Requisitos
	case AspectMonto:
		return s.Monto
	case AspectDocumentos:
		return s.Documentos
	case AspectFechas:
		return s.Fechas
	case AspectCosto:
		return s.Costo
	case AspectComo:
		if s.Como == nil {
			return nil
		}
		var all []Item
		all = append(all, s.Como.Online...)
		all = append(all, s.Como.Office...)
		all = append(all, s.Como.Phone...)
		return all
	}
	return nil
}

// Item is one short sentence of a section. An item that states an amount carries the date
// the amount holds from.
type Item struct {
	Text      string `json:"text"`
	ValidFrom Date   `json:"valid_from,omitzero"`
	// ValidUntil, when set, is the last day the item holds (an amount replaced on a known
	// date): after it the answer never states the item as current.
	ValidUntil Date `json:"valid_until,omitzero"`
}

// Expired reports whether the item no longer holds on the day of now.
func (it Item) Expired(now time.Time) bool {
	if it.ValidUntil.IsZero() {
		return false
	}
	y, m, d := now.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).After(it.ValidUntil.Time)
}

// UnmarshalJSON accepts a plain string or an object {"text", "valid_from", "valid_until"}.
func (it *Item) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*it = Item{}
		return json.Unmarshal(b, &it.Text)
	}
	type plain Item
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*it = Item(p)
	return nil
}

// MarshalJSON writes a plain string when the item has no date.
func (it Item) MarshalJSON() ([]byte, error) {
	if it.ValidFrom.IsZero() && it.ValidUntil.IsZero() {
		return json.Marshal(it.Text)
	}
	type plain Item
	return json.Marshal(plain(it))
}

// Date is a calendar day, written YYYY-MM-DD.
type Date struct {
	time.Time
	// Bad holds what was written when it is not a date, for Validate to report with its
	// field name.
	Bad string
}

// UnmarshalJSON parses YYYY-MM-DD. A string that is not a date is kept in Bad, so that
// validation names the field; a value that is not a string is an error.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date must be a string YYYY-MM-DD")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		*d = Date{Bad: s}
		return nil
	}
	*d = Date{Time: t}
	return nil
}

// check returns what is wrong with a date field, or "".
func (d Date) check(required bool) string {
	switch {
	case d.Bad != "":
		return fmt.Sprintf("%q is not a date YYYY-MM-DD", d.Bad)
	case required && d.IsZero():
		return "required (YYYY-MM-DD)"
	}
	return ""
}

// MarshalJSON writes YYYY-MM-DD.
func (d Date) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.Format(time.DateOnly))
}

// IsZero reports whether the date is unset (or not a date).
func (d Date) IsZero() bool { return d.Time.IsZero() }
