package handoff

import "slices"

// Queue is a line of the call center, by topic, as the 101 line's phone menu groups them.
type Queue struct {
	ID     string
	Name   string
	Topics []string // ficha topics that go to this queue
}

// Queues of the call center, after the 101 line's menu (../shared/reference/
// help-101-phone-menu-2018.txt): 1 previsión y trabajo, 2 salud, 3 vivienda, 4 educación,
// 5 desarrollo social, 6 derechos ciudadanos y Registro Civil; and a general line.
var Queues = []Queue{
	{ID: "prevision-trabajo", Name: "Previsión, trabajo y empleo", Topics: []string{"pensiones", "trabajo", "personas-mayores"}},
	{ID: "salud", Name: "Salud, licencias médicas y Fonasa", Topics: []string{"salud"}},
	{ID: "vivienda", Name: "Vivienda y servicios básicos", Topics: []string{"vivienda", "servicios-basicos"}},
	{ID: "educacion", Name: "Educación y becas", Topics: []string{"educacion"}},
	{ID: "desarrollo-social", Name: "Beneficios de desarrollo social", Topics: []string{"familia", "discapacidad", "registro-social", "proteccion"}},
	{ID: "derechos-registro-civil", Name: "Derechos ciudadanos, SERNAC y Registro Civil",
		Topics: []string{"registro-civil", "identidad", "justicia", "consumidor", "migracion", "elecciones", "transporte", "impuestos", "empresas"}},
	{ID: "general", Name: "Orientación general", Topics: []string{"chileatiende"}},
}

// QueueFor picks the queue of a ficha's main topic; "general" when there is none.
func QueueFor(topic string) string {
	for _, q := range Queues {
		if slices.Contains(q.Topics, topic) {
			return q.ID
		}
	}
	return "general"
}

// QueueName returns a queue's name, or its id when unknown.
func QueueName(id string) string {
	for _, q := range Queues {
		if q.ID == id {
			return q.Name
		}
	}
	return id
}

// KnownQueue reports whether id names a queue.
func KnownQueue(id string) bool {
	return slices.ContainsFunc(Queues, func(q Queue) bool { return q.ID == id })
}
