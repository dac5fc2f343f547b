package handoff

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Hours are the call center's opening hours in its time zone, with holidays closed.
type Hours struct {
	Loc      *time.Location
	Week     [7][2]time.Duration // by weekday: opening and closing, as time since midnight; equal when closed
	Holidays map[string]bool     // "2026-12-25"
}

// DefaultHours are the 101 line's: Monday to Thursday 8:00–20:00, Friday 8:00–18:00, in
// America/Santiago, closed on weekends and holidays.
func DefaultHours(loc *time.Location, holidays map[string]bool) Hours {
	h := Hours{Loc: loc, Holidays: holidays}
	for d := time.Monday; d <= time.Thursday; d++ {
		h.Week[d] = [2]time.Duration{8 * time.Hour, 20 * time.Hour}
	}
	h.Week[time.Friday] = [2]time.Duration{8 * time.Hour, 18 * time.Hour}
	return h
}

// ParseWeek reads opening hours written as "1-4 08:00-20:00, 5 08:00-18:00": days of the
// week (1 Monday … 7 Sunday), single or ranges, with their opening and closing times.
// Days not named are closed.
func ParseWeek(spec string) ([7][2]time.Duration, error) {
	var week [7][2]time.Duration
	for _, part := range strings.Split(spec, ",") {
		f := strings.Fields(part)
		if len(f) != 2 {
			return week, fmt.Errorf("hours %q: want DAYS HH:MM-HH:MM", strings.TrimSpace(part))
		}
		var d1, d2 int
		if n, _ := fmt.Sscanf(f[0], "%d-%d", &d1, &d2); n == 1 {
			d2 = d1
		} else if n != 2 {
			return week, fmt.Errorf("hours %q: days must be 1-7 or a range such as 1-4", f[0])
		}
		var h1, m1, h2, m2 int
		if n, _ := fmt.Sscanf(f[1], "%d:%d-%d:%d", &h1, &m1, &h2, &m2); n != 4 || d1 < 1 || d2 > 7 || d1 > d2 ||
			h1*60+m1 >= h2*60+m2 || h2*60+m2 > 24*60 || m1 > 59 || m2 > 59 {
			return week, fmt.Errorf("hours %q: want days 1-7 and HH:MM-HH:MM with opening before closing", strings.TrimSpace(part))
		}
		for d := d1; d <= d2; d++ {
			week[d%7] = [2]time.Duration{time.Duration(h1)*time.Hour + time.Duration(m1)*time.Minute, time.Duration(h2)*time.Hour + time.Duration(m2)*time.Minute}
		}
	}
	return week, nil
}

// AlwaysOpen is a call center that never closes (tests, 24-hour operations).
func AlwaysOpen() Hours {
	h := Hours{Loc: time.UTC}
	for d := range h.Week {
		h.Week[d] = [2]time.Duration{0, 24 * time.Hour}
	}
	return h
}

// ParseHolidays reads a list of dates YYYY-MM-DD, one a line; "#" starts a comment.
func ParseHolidays(data []byte) (map[string]bool, error) {
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.SplitN(sc.Text(), "#", 2)[0])
		if line == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, line); err != nil {
			return nil, fmt.Errorf("holidays:%d: %q is not a date YYYY-MM-DD", n, line)
		}
		out[line] = true
	}
	return out, sc.Err()
}

func (h Hours) day(t time.Time) (open, close time.Time, ok bool) {
	t = t.In(h.Loc)
	if h.Holidays[t.Format(time.DateOnly)] {
		return time.Time{}, time.Time{}, false
	}
	w := h.Week[t.Weekday()]
	if w[0] >= w[1] {
		return time.Time{}, time.Time{}, false
	}
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.Loc)
	return midnight.Add(w[0]), midnight.Add(w[1]), true
}

// IsOpen reports whether a person can answer at t.
func (h Hours) IsOpen(t time.Time) bool {
	open, close, ok := h.day(t)
	return ok && !t.Before(open) && t.Before(close)
}

// NextOpen returns when the call center next opens at or after t (t itself when open).
func (h Hours) NextOpen(t time.Time) time.Time {
	if h.IsOpen(t) {
		return t
	}
	for i := 0; i < 30; i++ {
		d := t.In(h.Loc).AddDate(0, 0, i)
		open, _, ok := h.day(d)
		if ok && (i > 0 || t.Before(open)) {
			return open
		}
	}
	return t
}

// Summary says the opening hours the way a citizen reads them: "de lunes a jueves de 8:00 a
// 20:00 y los viernes de 8:00 a 18:00". Holidays are not named.
func (h Hours) Summary() string {
	type span struct {
		from, to time.Weekday
		hours    [2]time.Duration
	}
	var spans []span
	for i := 1; i <= 7; i++ {
		d := time.Weekday(i % 7) // Monday first, Sunday last
		w := h.Week[d]
		if w[0] >= w[1] {
			continue
		}
		if n := len(spans); n > 0 && spans[n-1].hours == w && (spans[n-1].to+1)%7 == d {
			spans[n-1].to = d
			continue
		}
		spans = append(spans, span{d, d, w})
	}
	if len(spans) == 0 {
		return "en días y horarios que se informan por este medio"
	}
	if len(spans) == 1 && spans[0].from == time.Monday && spans[0].to == time.Sunday && spans[0].hours == [2]time.Duration{0, 24 * time.Hour} {
		return "todos los días, las 24 horas"
	}
	clock := func(d time.Duration) string { return fmt.Sprintf("%d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	parts := make([]string, len(spans))
	for i, sp := range spans {
		days := "los " + weekdaysPluralES[sp.from]
		if sp.to != sp.from {
			days = "de " + weekdaysES[sp.from] + " a " + weekdaysES[sp.to]
		}
		parts[i] = days + " de " + clock(sp.hours[0]) + " a " + clock(sp.hours[1])
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " y " + parts[len(parts)-1]
}

var weekdaysPluralES = [...]string{"domingos", "lunes", "martes", "miércoles", "jueves", "viernes", "sábados"}

var weekdaysES = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}

// Describe says a time the way a citizen reads it: "el lunes 30 de noviembre a las 8:00".
func (h Hours) Describe(t time.Time) string {
	t = t.In(h.Loc)
	return fmt.Sprintf("el %s %d de %s a las %d:%02d", weekdaysES[t.Weekday()], t.Day(), monthsES[t.Month()-1], t.Hour(), t.Minute())
}

var monthsES = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
