package retrieval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Office is a place where citizens are served in person (docs/offices.md).
type Office struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Address  string  `json:"address"`
	Comuna   string  `json:"comuna"`
	Region   string  `json:"region"`
	Hours    string  `json:"hours"`
	Phone    string  `json:"phone"`
	Lat      float64 `json:"lat"`
	Lon      float64 `json:"lon"`
	Verified bool    `json:"verified"`
	Source   string  `json:"source"`
}

// Mobile is a mobile office (ChileAtiende Móvil) and the regions it tours.
type Mobile struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Regions     []string `json:"regions"`
	Description string   `json:"description"`
	Source      string   `json:"source"`
}

// Comuna is one of Chile's comunas, with approximate coordinates.
type Comuna struct {
	Name   string
	Region string
	Lat    float64
	Lon    float64
}

// Network is the in-person network: offices, mobile offices and the comunas they serve.
type Network struct {
	Note    string   `json:"note"`
	Offices []Office `json:"offices"`
	Mobile  []Mobile `json:"mobile"`
	Comunas []Comuna `json:"-"`

	places []place // comunas and regions by folded name, longest first
}

// Place is a comuna or a region named by a citizen.
type Place struct {
	Name     string // as written in the data, with accents
	Region   string
	IsRegion bool
	Lat, Lon float64
}

type place struct {
	words []string
	Place
}

// LoadNetwork reads offices.json and comunas.tsv at the root of fsys and checks them.
func LoadNetwork(fsys fs.FS) (*Network, error) {
	tsv, err := fs.ReadFile(fsys, "comunas.tsv")
	if err != nil {
		return nil, fmt.Errorf("load comunas: %w", err)
	}
	js, err := fs.ReadFile(fsys, "offices.json")
	if err != nil {
		return nil, fmt.Errorf("load offices: %w", err)
	}
	return ParseNetwork(js, tsv)
}

// ParseNetwork parses the offices (JSON) and comunas (TSV) and checks that every office
// names a known comuna of its region, has coordinates in Chile and a unique id.
func ParseNetwork(officesJSON, comunasTSV []byte) (*Network, error) {
	var probs []Problem
	var n Network
	dec := json.NewDecoder(bytes.NewReader(officesJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return nil, &LoadError{[]Problem{{File: "offices.json", Msg: jsonMsg(err)}}}
	}
	regionOf := map[string]string{}
	regions := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(comunasTSV))
	line := 0
	for sc.Scan() {
		line++
		if line == 1 || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 4 {
			probs = append(probs, Problem{File: "comunas.tsv", Line: line, Msg: "want 4 tab-separated columns: comuna, region, lat, lon"})
			continue
		}
		lat, err1 := strconv.ParseFloat(cols[2], 64)
		lon, err2 := strconv.ParseFloat(cols[3], 64)
		if err1 != nil || err2 != nil || !inChile(lat, lon) {
			probs = append(probs, Problem{File: "comunas.tsv", Line: line, Field: "lat/lon", Msg: "not coordinates in Chile"})
			continue
		}
		n.Comunas = append(n.Comunas, Comuna{Name: cols[0], Region: cols[1], Lat: lat, Lon: lon})
		regionOf[cols[0]+"\x00"+cols[1]] = cols[1]
		regions[cols[1]] = true
	}
	seen := map[string]bool{}
	for i, o := range n.Offices {
		field := func(f string) string { return fmt.Sprintf("offices[%d].%s", i, f) }
		bad := func(f, msg string) {
			probs = append(probs, Problem{File: "offices.json", Slug: o.ID, Field: field(f), Msg: msg})
		}
		switch {
		case !slugRe.MatchString(o.ID):
			bad("id", "use lowercase letters, digits and hyphens")
		case seen[o.ID]:
			bad("id", "duplicate id")
		}
		seen[o.ID] = true
		if o.Name == "" || o.Address == "" || o.Hours == "" || o.Phone == "" {
			bad("name", "name, address, hours and phone are required")
		}
		if _, ok := regionOf[o.Comuna+"\x00"+o.Region]; !ok {
			bad("comuna", fmt.Sprintf("%q is not a comuna of %q in comunas.tsv", o.Comuna, o.Region))
		}
		if !inChile(o.Lat, o.Lon) {
			bad("lat", "coordinates outside Chile")
		}
	}
	for i, m := range n.Mobile {
		for _, r := range m.Regions {
			if !regions[r] {
				probs = append(probs, Problem{File: "offices.json", Slug: m.ID, Field: fmt.Sprintf("mobile[%d].regions", i), Msg: fmt.Sprintf("unknown region %q", r)})
			}
		}
	}
	if len(probs) > 0 {
		return nil, &LoadError{probs}
	}
	n.index()
	return &n, nil
}

func inChile(lat, lon float64) bool { return lat >= -56 && lat <= -17 && lon >= -110 && lon <= -66 }

// index prepares the place names: every comuna, and every region by its name and by its
// short name (the part after "de", "del": "La Araucanía", "Biobío", "Los Lagos").
func (n *Network) index() {
	type acc struct{ lat, lon, k float64 }
	centre := map[string]*acc{}
	for _, c := range n.Comunas {
		n.places = append(n.places, place{Words(c.Name), Place{Name: c.Name, Region: c.Region, Lat: c.Lat, Lon: c.Lon}})
		a := centre[c.Region]
		if a == nil {
			a = &acc{}
			centre[c.Region] = a
		}
		a.lat, a.lon, a.k = a.lat+c.Lat, a.lon+c.Lon, a.k+1
	}
	for r, a := range centre {
		p := Place{Name: r, Region: r, IsRegion: true, Lat: a.lat / a.k, Lon: a.lon / a.k}
		names := []string{"region de " + r, "region " + r, r}
		words := Words(r)
		for i, w := range words {
			if (w == "de" || w == "del") && i+1 < len(words) {
				names = append(names, strings.Join(words[i+1:], " "))
				break
			}
		}
		for _, name := range names {
			n.places = append(n.places, place{Words(name), p})
		}
	}
	sort.SliceStable(n.places, func(i, j int) bool { return len(n.places[i].words) > len(n.places[j].words) })
}

// Locate finds the comuna or region named in a citizen's text (a comuna before a region of the
// same name, the longest name first).
func (n *Network) Locate(text string) (Place, bool) {
	words := Words(text)
	// places is sorted longest name first, comunas before regions of the same length.
	for _, p := range n.places {
		if containsRun(words, p.words) {
			return p.Place, true
		}
	}
	return Place{}, false
}

func containsRun(words, run []string) bool {
	for i := 0; i+len(run) <= len(words); i++ {
		if equal(words[i:i+len(run)], run) {
			return true
		}
	}
	return false
}

// Nearby is an office and its distance from a place.
type Nearby struct {
	Office
	Km float64
}

// Nearest returns the k offices closest to the place: in a region, those of the region
// first.
func (n *Network) Nearest(p Place, k int) []Nearby {
	out := make([]Nearby, 0, len(n.Offices))
	for _, o := range n.Offices {
		if p.IsRegion && o.Region != p.Region {
			continue
		}
		out = append(out, Nearby{o, km(p.Lat, p.Lon, o.Lat, o.Lon)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Km < out[j].Km })
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// MobileIn returns the mobile offices that tour the region.
func (n *Network) MobileIn(region string) []Mobile {
	var out []Mobile
	for _, m := range n.Mobile {
		for _, r := range m.Regions {
			if r == region {
				out = append(out, m)
			}
		}
	}
	return out
}

// km is the great-circle distance between two points.
func km(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}
