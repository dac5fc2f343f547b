package console

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/handoff/report"
	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/store"
	"github.com/gin-gonic/gin"
)

// badQuery is a request whose parameters cannot be read; msg says why, safe to show.
func badQuery(msg string) error { return httperr.New(http.StatusBadRequest, msg) }

// buildReport reads ?days= (default 14) and ?low= (an answer's score below which it counts
// as unanswered; default none) and builds the report.
func (c *Console[T]) buildReport(g *gin.Context) (*report.Report, error) {
	o := report.Options{Now: c.cfg.Now(), Location: c.cfg.Location}
	if s := g.Query("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > report.MaxDays {
			return nil, badQuery(fmt.Sprintf("El período debe ser un número de días entre 1 y %d.", report.MaxDays))
		}
		o.Days = n
	}
	if s := g.Query("low"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, badQuery("El puntaje bajo debe ser un número.")
		}
		o.LowScore = f
	}
	r, err := report.Build(g.Request.Context(), c.cfg.Store, c.cfg.Catalogue, o)
	if errors.Is(err, report.ErrLowScore) {
		return nil, badQuery("El puntaje bajo debe ser un número positivo.")
	}
	if err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	return r, nil
}

var actionES = map[string]string{
	bot.ActionClarify: "pidió precisar", store.ActionRepeated: "repitió la respuesta", bot.ActionOutOfScope: "no encontró respuesta", bot.ActionHandoff: "derivó a una persona",
	bot.ActionAnswer: "respondió con poca confianza",
}

func percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 0, 64) + "%" }
func count(f float64) string   { return strconv.FormatFloat(f, 'f', 0, 64) }
func minutes(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + " min" }

// shortDate is 2026-11-27 as 27/11.
func shortDate(d string) string {
	if len(d) == len(time.DateOnly) {
		return d[8:10] + "/" + d[5:7]
	}
	return d
}

func waitText(seconds float64, taken int) string {
	if taken == 0 {
		return "—"
	}
	return minutes(seconds / 60)
}

type groupRow struct {
	report.Group
	Words   string
	Actions string
}

func (c *Console[T]) reports(g *gin.Context) error {
	r, err := c.buildReport(g)
	if err != nil {
		return err
	}
	n := len(r.Days)
	labels := make([]string, n)
	for i, d := range r.Days {
		labels[i] = shortDate(d.Date)
	}
	volume := bars{Title: "Mensajes de ciudadanos por canal y día", Labels: labels, Stacked: true, Format: count, Integer: true}
	for _, ch := range r.Channels {
		s := series{Name: ch, Values: make([]float64, n)}
		for i, d := range r.Days {
			s.Values[i] = float64(d.Inbound[ch])
		}
		volume.Series = append(volume.Series, s)
	}
	rate := bars{Title: "Tasa de derivación a una persona por día", Labels: labels, Format: percent,
		Series: []series{{Name: "derivaciones / conversaciones", Values: make([]float64, n)}}}
	waits := bars{Title: "Espera hasta que una persona toma la conversación", Labels: labels, Format: minutes,
		Series: []series{{Name: "mediana", Values: make([]float64, n)}, {Name: "percentil 90", Values: make([]float64, n)}}}
	abandoned := bars{Title: "Derivaciones abandonadas por día", Labels: labels, Format: count, Integer: true,
		Series: []series{{Name: "abandonadas", Values: make([]float64, n)}}}
	for i, d := range r.Days {
		rate.Series[0].Values[i] = d.Rate
		waits.Series[0].Values[i], waits.Series[1].Values[i] = d.Median/60, d.P90/60
		abandoned.Series[0].Values[i] = float64(d.Abandoned)
	}
	var reasons, fichas []bar
	for _, x := range r.Reasons {
		label := reasonES[x.Key]
		if label == "" {
			label = x.Key
		}
		reasons = append(reasons, bar{label, float64(x.Count)})
	}
	for _, f := range r.Fichas {
		label := f.Title
		if label == "" {
			label = f.Slug
		}
		fichas = append(fichas, bar{label, float64(f.Count)})
	}
	var groups []groupRow
	for i, gr := range r.Groups {
		if i == 50 {
			break
		}
		row := groupRow{Group: gr, Words: strings.Join(gr.Words, " · ")}
		var acts []string
		for _, a := range []string{bot.ActionClarify, bot.ActionOutOfScope, bot.ActionHandoff, bot.ActionAnswer} {
			if k := gr.Actions[a]; k > 0 {
				acts = append(acts, fmt.Sprintf("%s: %d", actionES[a], k))
			}
		}
		row.Actions = strings.Join(acts, ", ")
		groups = append(groups, row)
	}
	type dayRow struct {
		report.Day
		Label, Rate, Median, P90 string
	}
	// The exports take the page's own period and bound.
	q := url.Values{}
	for _, k := range []string{"days", "low"} {
		if v := g.Query(k); v != "" {
			q.Set(k, v)
		}
	}
	export := ""
	if len(q) > 0 {
		export = "?" + q.Encode()
	}
	var days []dayRow
	for _, d := range append(slices.Clip(r.Days), r.Total) {
		days = append(days, dayRow{Day: d, Label: d.Date, Rate: percent(d.Rate), Median: waitText(d.Median, d.Taken), P90: waitText(d.P90, d.Taken)})
	}
	days[len(days)-1].Label = "Total"
	data := struct {
		page
		R                              *report.Report
		JSON, DaysCSV, GroupsCSV       string
		Volume, Rate, Waits, Abandoned template.HTML
		ReasonsChart, FichasChart      template.HTML
		Groups                         []groupRow
		Days                           []dayRow
		From, To                       string
		More                           int
		Stale                          []report.Stale // the first ones; all in the JSON
		MoreStale                      int
	}{page: c.base(g, "Informes"), R: r, Stale: r.Stale[:min(len(r.Stale), 30)], MoreStale: max(0, len(r.Stale)-30),
		JSON: "/agent/reports.json" + export, DaysCSV: "/agent/reports/days.csv" + export, GroupsCSV: "/agent/reports/unanswered.csv" + export,
		Volume: volume.SVG(), Rate: rate.SVG(), Waits: waits.SVG(), Abandoned: abandoned.SVG(),
		ReasonsChart: hbars("Motivos de derivación", reasons, count), FichasChart: hbars("Fichas más mostradas", fichas, count),
		Groups: groups, Days: days, From: r.From.Format(time.DateOnly), To: r.To.AddDate(0, 0, -1).Format(time.DateOnly),
		More: len(r.Groups) - len(groups)}
	c.render(g, http.StatusOK, "reports", data)
	return nil
}

func (c *Console[T]) reportJSON(g *gin.Context) error {
	r, err := c.buildReport(g)
	if err != nil {
		return err
	}
	g.JSON(http.StatusOK, r)
	return nil
}

// reportCSV serves one of the report's tables as a CSV file named for the last day.
func (c *Console[T]) reportCSV(write func(*report.Report, io.Writer) error, name string) func(g *gin.Context) error {
	return func(g *gin.Context) error {
		r, err := c.buildReport(g)
		if err != nil {
			return err
		}
		g.Header("Content-Type", "text/csv; charset=utf-8")
		g.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="atiende-%s-%s.csv"`, name, r.To.AddDate(0, 0, -1).Format(time.DateOnly)))
		g.Status(http.StatusOK)
		if err := write(r, g.Writer); err != nil {
			return fmt.Errorf("write %s.csv: %w", name, err) // logged: the file has begun
		}
		return nil
	}
}
