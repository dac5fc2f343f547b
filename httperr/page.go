package httperr

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Page is how a site of pages (the agents' console and its reports) answers an error: a page
// in Spanish that says what happened and leads back — to the sign-in when the session ended —
// not the browser's bare error page.
type Page struct {
	Site       string // in every title, e.g. "Consola Atiende"
	Stylesheet string // the site's CSS, e.g. "/agent/static/console.css"
	Home       string // where "back" leads, e.g. "/agent"
	HomeLabel  string // e.g. "Volver a la consola"
	SignIn     string // where a 401 leads, e.g. "/agent/login"
}

// titles are the pages' headings by status.
var titles = map[int]string{
	http.StatusBadRequest:            "Solicitud no válida",
	http.StatusUnauthorized:          "Sesión terminada",
	http.StatusForbidden:             "Sin permiso",
	http.StatusNotFound:              "No encontrada",
	http.StatusMethodNotAllowed:      "Método no permitido",
	http.StatusRequestEntityTooLarge: "Demasiado grande",
	http.StatusTooManyRequests:       "Demasiadas solicitudes",
}

// Title is a page's heading for status.
func Title(status int) string {
	if t, ok := titles[status]; ok {
		return t
	}
	if status >= 500 {
		return "No se pudo mostrar la página"
	}
	return titles[http.StatusBadRequest]
}

var pageTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — {{.Site}}</title>{{if .Stylesheet}}<link rel="stylesheet" href="{{.Stylesheet}}">{{end}}</head>
<body><main><h1>{{.Title}}</h1><p>{{.Msg}}</p>{{if .ID}}<p><small>Referencia: {{.ID}}</small></p>{{end}}<p><a href="{{.Back}}">{{.Label}}</a></p></main></body></html>
`))

// Surface is the page as a Surface.
func (p Page) Surface(c *gin.Context, e *Error) {
	back, label := p.Home, p.HomeLabel
	if e.Status == http.StatusUnauthorized && p.SignIn != "" {
		back, label = p.SignIn, "Ingresar de nuevo"
	}
	var b strings.Builder
	err := pageTemplate.Execute(&b, struct{ Title, Site, Stylesheet, Msg, ID, Back, Label string }{
		Title(e.Status), p.Site, p.Stylesheet, e.Msg, RequestID(c), back, label})
	if err != nil { // the template is fixed and its data strings: it cannot fail
		panic(err)
	}
	// The page brings its own policy: an error answered before the site's own headers
	// were set (a body too large, an unknown address) still loads its stylesheet, and
	// nothing else.
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	c.Header("Cache-Control", "no-store")
	c.Data(e.Status, "text/html; charset=utf-8", []byte(b.String()))
}
