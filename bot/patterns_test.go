package bot

import (
	"testing"

	"github.com/atiende/atiende/retrieval/retrievaltest"
)

// reading is a message and whether a rule should read it so.
type reading struct {
	text string
	want bool
}

// readsAs checks read(text, norm) on each message, norm as the bundled index normalizes it;
// what names the reading in a failure.
func readsAs(t *testing.T, what string, read func(text, norm string) bool, cases []reading) {
	t.Helper()
	ix := retrievaltest.Bundled(t)
	for _, c := range cases {
		if got := read(c.text, ix.Normalize(c.text)); got != c.want {
			t.Errorf("%q: %s %v, want %v", c.text, what, got, c.want)
		}
	}
}

// TestEmergencyPatternsReadAnEvent: a pattern makes the engine sure, so it must read harm
// happening to someone, not the topic's words: a question about violence, a suicide in the
// past, a service cut off or a child's visits is left to the learned readings.
func TestEmergencyPatternsReadAnEvent(t *testing.T) {
	readsAs(t, "a pattern's emergency", func(_, norm string) bool { return len(detectEmergency(norm)) > 0 }, []reading{
		{"que dice la ley sobre el femicidio en chile", false},
		{"tuvimos una causa por violencia, igual hay que pasar por mediacion?", false},
		{"la empresa me corto el agua por una deuda que pague, donde reclamo", false},
		{"el juez fijo visitas pero la mama del niño no cumple", false},
		{"una lesion en la espalda no me deja trabajar, hay pension?", false},
		{"el seguro de vida paga si mi tio murio por suicidio?", false},
		{"mi marido me pega cuando llega curado", true},
		{"mi pareja me revisa el celular y no me deja trabajar", true},
		{"estoy pensando en suicidarme", true},
		{"tengo pensamientos suicidas todos los dias", true},
		{"otra vez tengo ganas de cortarme", true},
		{"el patron no me deja salir del fundo", true},
		{"el computador se me pega al abrir el formulario del registro social", false},
		{"mi sobrino me pego la gripe, me pagan la licencia?", false},
		{"desde que se fue ya no me pega, pero tampoco deposita la pension", false},
		{"cuando le digo que no me pega", true},
	})
}

// TestAsksReadsAProcedureQuestion: a question without a question mark still asks ("cómo la
// renuevo", "qué papeles piden"), and a story that only tells does not.
func TestAsksReadsAProcedureQuestion(t *testing.T) {
	readsAs(t, "asks", asks, []reading{
		{"mi carnet de manejar caduco, como lo renuevo", true},
		{"q documentos exige el registro civil pa inscribir guagua", true},
		{"do I book a slot before renewing my passport", true},
		{"trabaje 8 meses con boleta, me corresponde aguinaldo", true},
		{"mi hijo tiene 4 años y va al jardin de la junji", false},
		{"ayer fui a la muni con mi mama y no habia nadie", false},
	})
}
