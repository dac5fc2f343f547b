package retrieval_test

import (
	"strings"
	"testing"

	"github.com/atiende/atiende/catalogue"
	"github.com/atiende/atiende/retrieval"
)

func TestBundledNetwork(t *testing.T) {
	n, err := retrieval.LoadNetwork(catalogue.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Comunas) != 346 {
		t.Errorf("%d comunas, want 346", len(n.Comunas))
	}
	regions := map[string]bool{}
	for _, o := range n.Offices {
		regions[o.Region] = true
	}
	if len(regions) != 16 || len(n.Offices) < 80 {
		t.Errorf("%d offices in %d regions; want at least 80 in all 16", len(n.Offices), len(regions))
	}
	if len(n.Mobile) == 0 || strings.TrimSpace(n.Note) == "" {
		t.Errorf("mobile offices %d, note %q", len(n.Mobile), n.Note)
	}
	for _, city := range []string{"Santiago", "Puente Alto", "Maipú", "Valparaíso", "Viña del Mar", "Concepción", "Temuco", "Antofagasta",
		"Iquique", "Arica", "La Serena", "Rancagua", "Talca", "Chillán", "Puerto Montt", "Valdivia", "Coyhaique", "Punta Arenas"} {
		p, ok := n.Locate("oficina en " + city)
		if !ok || p.Name != city {
			t.Errorf("Locate(%q) = %+v, %v", city, p, ok)
			continue
		}
		if near := n.Nearest(p, 1); len(near) == 0 || near[0].Comuna != city {
			t.Errorf("no office in %s: %+v", city, near)
		}
	}
}

func TestLocate(t *testing.T) {
	n, err := retrieval.LoadNetwork(catalogue.FS)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"oficina mas cerca de puente alto":   "Puente Alto",
		"chileatiende en vina del mar":       "Viña del Mar",
		"sucursal en la region de los lagos": "Los Lagos",
		"hay oficina en la araucania?":       "La Araucanía",
		"donde atienden en nunoa":            "Ñuñoa",
		"oficina en los angeles":             "Los Ángeles",
	} {
		p, ok := n.Locate(text)
		if !ok || !strings.Contains(p.Name, want) {
			t.Errorf("Locate(%q) = %q, want %q", text, p.Name, want)
		}
	}
	if p, ok := n.Locate("hay oficina en la region de los lagos"); !ok || !p.IsRegion {
		t.Errorf("the region, not the comuna Los Lagos: %+v", p)
	}
	if _, ok := n.Locate("cuanto es la pgu"); ok {
		t.Error("found a place in a question without one")
	}
}

func TestNetworkValidation(t *testing.T) {
	comunas := []byte("comuna\tregion\tlat\tlon\nTemuco\tLa Araucanía\t-38.73\t-72.59\nMala\tX\t10\t10\n")
	offices := []byte(`{"note":"n","offices":[
 {"id":"a","name":"A","address":"x","comuna":"Temuco","region":"La Araucanía","hours":"h","phone":"101","lat":-38.7,"lon":-72.6,"verified":false,"source":""},
 {"id":"a","name":"B","address":"x","comuna":"Temuko","region":"La Araucanía","hours":"h","phone":"101","lat":40,"lon":-72.6,"verified":false,"source":""}],
 "mobile":[{"id":"m","name":"M","regions":["Narnia"],"description":"d","source":""}]}`)
	_, err := retrieval.ParseNetwork(offices, comunas)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"comunas.tsv:3", "duplicate id", `"Temuko" is not a comuna`, "coordinates outside Chile", `unknown region "Narnia"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
