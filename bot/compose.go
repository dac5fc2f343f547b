package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/atiende/atiende/retrieval"
)

var monthsES = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

func dateES(d retrieval.Date) string {
	return fmt.Sprintf("%d de %s de %d", d.Day(), monthsES[d.Month()-1], d.Year())
}

func dateEN(d retrieval.Date) string { return d.Format("January 2, 2006") }

// itemText is an item as the citizen reads it: an amount says the date it holds from, and,
// in its last month, the day it ends.
func itemText(it retrieval.Item, english bool, now time.Time) string {
	t := strings.TrimSpace(it.Text)
	until := !it.ValidUntil.IsZero() && now.AddDate(0, 0, endingSoon).After(it.ValidUntil.Time)
	if (it.ValidFrom.IsZero() || saysItsDate(t, it.ValidFrom)) && !until {
		return t
	}
	t = strings.TrimRight(t, ".")
	switch {
	case english && until && !it.ValidFrom.IsZero():
		return fmt.Sprintf("%s (valid from %s until %s).", t, dateEN(it.ValidFrom), dateEN(it.ValidUntil))
	case english && until:
		return fmt.Sprintf("%s (valid until %s).", t, dateEN(it.ValidUntil))
	case english:
		return fmt.Sprintf("%s (valid from %s).", t, dateEN(it.ValidFrom))
	case until && !it.ValidFrom.IsZero():
		return fmt.Sprintf("%s (vigente desde el %s hasta el %s).", t, dateES(it.ValidFrom), dateES(it.ValidUntil))
	case until:
		return fmt.Sprintf("%s (vigente hasta el %s).", t, dateES(it.ValidUntil))
	}
	return fmt.Sprintf("%s (vigente desde el %s).", t, dateES(it.ValidFrom))
}

// saysItsDate reports whether an item's own text already names the month and year it holds
// from ("valores desde febrero de 2026"): the engine does not say the date a second time.
func saysItsDate(text string, from retrieval.Date) bool {
	t := strings.ToLower(text)
	return strings.Contains(t, monthsES[from.Month()-1]) && strings.Contains(t, fmt.Sprint(from.Year()))
}

// endingSoon: an item whose last day is within this many days says it.
const endingSoon = 31

// current leaves out the items that no longer hold, and says whether it left any out.
func current(items []retrieval.Item, now time.Time) ([]retrieval.Item, bool) {
	var out []retrieval.Item
	for _, it := range items {
		if !it.Expired(now) {
			out = append(out, it)
		}
	}
	return out, len(out) < len(items)
}

// expiredLine replaces what no longer holds: the amount is not stated as current.
func expiredLine(english bool) string {
	if english {
		return "Part of this information has expired: check the current amount at the link below or by calling 101."
	}
	return "Parte de esta información ya no está vigente: consulte el monto actual en el enlace de abajo o llamando al 101."
}

// datedAlike reports whether two or more of the items hold from a date, and every dated item
// from the same one.
func datedAlike(items []retrieval.Item) bool {
	var d retrieval.Date
	n := 0
	for _, it := range items {
		switch {
		case it.ValidFrom.IsZero():
		case n == 0:
			d, n = it.ValidFrom, 1
		case it.ValidFrom.Equal(d.Time):
			n++
		default:
			return false
		}
	}
	return n >= 2
}

var aspectLabelES = map[string]string{
	retrieval.AspectRequisitos: "los requisitos", retrieval.AspectMonto: "el monto", retrieval.AspectComo: "cómo hacer el trámite",
	retrieval.AspectDocumentos: "los documentos que se piden", retrieval.AspectFechas: "las fechas o plazos", retrieval.AspectCosto: "el costo",
}

var aspectLabelEN = map[string]string{
	retrieval.AspectRequisitos: "the requirements", retrieval.AspectMonto: "the amount", retrieval.AspectComo: "how to apply",
	retrieval.AspectDocumentos: "the documents required", retrieval.AspectFechas: "dates or deadlines", retrieval.AspectCosto: "the cost",
}

// sectionFor picks the section that answers the aspect: the one asked, or its nearest
// neighbour when the ficha lacks it (an amount asked of a service that has a cost).
func sectionFor(f *retrieval.Ficha, aspect string) (string, []retrieval.Item) {
	if aspect == "" || aspect == retrieval.AspectGeneral {
		return retrieval.AspectGeneral, nil
	}
	if items := f.Sections.Items(aspect); len(items) > 0 {
		return aspect, items
	}
	alt := map[string]string{retrieval.AspectMonto: retrieval.AspectCosto, retrieval.AspectCosto: retrieval.AspectMonto,
		retrieval.AspectDocumentos: retrieval.AspectRequisitos}[aspect]
	if items := f.Sections.Items(alt); alt != "" && len(items) > 0 {
		return alt, items
	}
	return "", nil
}

// composeAnswer writes the answer to an aspect of a ficha within budget characters when it
// can: title, the section's items (as many as fit, at least one), the link. Nothing in it is
// not in the ficha, except the framing words.
func composeAnswer(f *retrieval.Ficha, aspect string, english bool, budget int, now time.Time) string {
	section, items := sectionFor(f, aspect)
	items, expired := current(items, now)
	var head, more string
	if english {
		head = f.Title + " (information in Spanish):"
		more = "More information: " + f.URL
	} else {
		head = f.Title + ":"
		more = "Más información: " + f.URL
	}
	var lines []string
	switch {
	case section == retrieval.AspectGeneral:
		lines = append(lines, f.Summary)
	case section == "":
		label := aspectLabelES[aspect]
		missing := fmt.Sprintf("La ficha no indica %s.", label)
		if english {
			missing = fmt.Sprintf("The ficha does not state %s.", aspectLabelEN[aspect])
		}
		lines = append(lines, missing, f.Summary)
	case section == retrieval.AspectComo:
		lines = comoLines(f.Sections.Como, english, now)
	default:
		// Items dated alike (a table of amounts) say their date once, on the first of them:
		// the part an SMS always carries.
		shared := datedAlike(items)
		dated := false
		for _, it := range items {
			if shared && dated {
				lines = append(lines, strings.TrimSpace(it.Text))
				continue
			}
			dated = dated || !it.ValidFrom.IsZero()
			lines = append(lines, itemText(it, english, now))
		}
	}
	if expired {
		lines = append([]string{expiredLine(english)}, lines...)
	}
	used := len(head) + len(more) + 2
	var body []string
	for i, l := range lines {
		if i > 0 && used+len(l)+1 > budget {
			break
		}
		body = append(body, l)
		used += len(l) + 1
	}
	if section == retrieval.AspectGeneral {
		if hint := askHint(f, english); used+len(hint)+1 <= budget {
			body = append(body, hint)
		}
	}
	return head + "\n" + strings.Join(body, "\n") + "\n" + more
}

func comoLines(c *retrieval.Como, english bool, now time.Time) []string {
	labels := [3]string{"En línea", "En oficina", "Por teléfono"}
	if english {
		labels = [3]string{"Online", "In person", "By phone"}
	}
	var first, rest []string
	for i, items := range [][]retrieval.Item{c.Online, c.Office, c.Phone} {
		items, _ := current(items, now)
		for j, it := range items {
			if j == 0 {
				first = append(first, labels[i]+": "+itemText(it, english, now))
			} else {
				rest = append(rest, itemText(it, english, now))
			}
		}
	}
	return append(first, rest...)
}

// askHint tells which parts of the ficha the citizen can ask about next.
func askHint(f *retrieval.Ficha, english bool) string {
	var parts []string
	for _, a := range []string{retrieval.AspectRequisitos, retrieval.AspectMonto, retrieval.AspectComo, retrieval.AspectDocumentos, retrieval.AspectFechas, retrieval.AspectCosto} {
		if len(f.Sections.Items(a)) == 0 {
			continue
		}
		if english {
			parts = append(parts, aspectLabelEN[a])
		} else {
			parts = append(parts, aspectLabelES[a])
		}
	}
	if len(parts) == 0 {
		return ""
	}
	if english {
		return "You can ask me about " + joinList(parts, "and") + "."
	}
	return "Puede preguntarme por " + joinList(parts, "y") + "."
}

func joinList(parts []string, and string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + and + " " + parts[len(parts)-1]
}

// composeOptions asks the citizen to choose among fichas.
func composeOptions(opts []Option, english bool) string {
	return composeList(opts, msgChoose, msgChooseHow, english)
}

// composeOthers offers, after a tentative answer, the fichas the citizen may have meant.
func composeOthers(opts []Option, english bool) string {
	return composeList(opts, msgOthers, msgOthersHow, english)
}

func composeList(opts []Option, intro, how phrase, english bool) string {
	var b strings.Builder
	b.WriteString(intro.in(english))
	for _, o := range opts {
		fmt.Fprintf(&b, "\n%d. %s", o.N, o.Title)
	}
	b.WriteString("\n" + how.in(english))
	return b.String()
}

// officeReply gives the offices nearest to a place, with address, hours and phone, and the
// mobile offices of its region, within the channel's budget (at least one office).
func (e *Engine) officeReply(p retrieval.Place, channel string, english bool) Reply {
	near := e.offices.Nearest(p, 3)
	r := Reply{Action: ActionAnswer, Aspect: retrieval.AspectComo, English: english, Fichas: []Hit{}}
	var b strings.Builder
	if len(near) == 0 {
		if english {
			fmt.Fprintf(&b, "I have no office listed near %s.", p.Name)
		} else {
			fmt.Fprintf(&b, "No tengo sucursales registradas cerca de %s.", p.Name)
		}
	} else if english {
		fmt.Fprintf(&b, "ChileAtiende offices nearest to %s:", p.Name)
	} else {
		fmt.Fprintf(&b, "Sucursales ChileAtiende más cercanas a %s:", p.Name)
	}
	tail := "\nAntes de ir, confirme la dirección y el horario al 101 o en chileatiende.gob.cl."
	if english {
		tail = "\nBefore you go, confirm the address and hours by calling 101 or at chileatiende.gob.cl."
	}
	for i, o := range near {
		address := strings.TrimRight(o.Address, ".")
		if !o.Verified {
			if english {
				address += " (exact address to be confirmed)"
			} else {
				address += " (dirección exacta por confirmar)"
			}
		}
		line := fmt.Sprintf("\n%d. %s: %s. %s.", i+1, o.Name, address, strings.TrimRight(o.Hours, "."))
		if o.Comuna != p.Name && !p.IsRegion {
			if english {
				line += fmt.Sprintf(" (%s, %.0f km)", o.Comuna, o.Km)
			} else {
				line += fmt.Sprintf(" (%s, a %.0f km)", o.Comuna, o.Km)
			}
		}
		if i > 0 && b.Len()+len(line)+len(tail) > e.media[channel].Budget {
			break
		}
		b.WriteString(line)
		r.Offices = append(r.Offices, o.ID)
	}
	for _, m := range e.offices.MobileIn(p.Region) {
		line := "\n" + m.Name + ": "
		if english {
			line += "a mobile office that tours the region."
		} else {
			line += "oficina móvil que recorre la región."
		}
		if b.Len()+len(line)+len(tail) <= e.media[channel].Budget {
			b.WriteString(line)
		}
	}
	b.WriteString(tail)
	r.Text = b.String()
	return r
}
