package bot

import (
	"testing"

	"github.com/atiende/atiende/retrieval/retrievaltest"
)

// TestEmergencyPatternsReadAnEvent: a pattern makes the engine sure, so it must read harm
// happening to someone, not the topic's words: a question about violence, a suicide in the
// past, a service cut off or a child's visits is left to the learned readings.
func TestEmergencyPatternsReadAnEvent(t *testing.T) {
	ix := retrievaltest.Bundled(t)
	for _, tt := range []struct {
		text      string
		emergency bool
	}{
		{"que dice la ley sobre el femicidio en chile", false},
		{"tuvimos una causa por violencia, igual hay que pasar por mediacion?", false},
		{"la empresa me corto el agua por una deuda que pague, donde reclamo", false},
		{"mi ex no me deja ver a mi hija hace meses, que hago", false},
		{"una lesion en la espalda no me deja trabajar, hay pension?", false},
		{"el seguro de vida paga si mi tio murio por suicidio?", false},
		{"mi marido me pega cuando llega curado", true},
		{"mi pareja me revisa el celular y no me deja trabajar", true},
		{"estoy pensando en suicidarme", true},
		{"tengo pensamientos suicidas todos los dias", true},
		{"otra vez tengo ganas de cortarme", true},
		{"el patron no me deja salir del fundo", true},
	} {
		if got := len(detectEmergency(ix.Normalize(tt.text))) > 0; got != tt.emergency {
			t.Errorf("%q: a pattern's emergency %v, want %v", tt.text, got, tt.emergency)
		}
	}
}
