package bot

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atiende/atiende/retrieval"
)

// Retriever is what the engine needs of the catalogue.
type Retriever interface {
	// Find ranks the fichas for a query, best first, at most k. A retriever that asks a
	// database or an embedding server stops when ctx ends (the turn's deadline, a shutdown).
	Find(ctx context.Context, q retrieval.Query, k int) retrieval.Found
	// Ficha returns the ficha with that slug, or false.
	Ficha(slug string) (*retrieval.Ficha, bool)
	// Fichas returns every ficha of the catalogue, in its order (the engine reads their
	// topics to offer related ones).
	Fichas() []*retrieval.Ficha
	// Normalize folds the text and respells what citizens write ("kiero" → "quiero").
	Normalize(text string) string
}

var _ Retriever = (*retrieval.Index)(nil)

// Actions a turn can take.
const (
	ActionGreet      = "greet"
	ActionAnswer     = "answer"
	ActionClarify    = "clarify"
	ActionHandoff    = "handoff"
	ActionEmergency  = "emergency"
	ActionOutOfScope = "out_of_scope"
	ActionOptout     = "optout"
	ActionGoodbye    = "goodbye"
)

// Reasons for a handoff to a person (see the handoff packet in docs/architecture.md).
const (
	ReasonRequest     = "request"
	ReasonFailure     = "repeated_failure"
	ReasonPersonal    = "personal_case"
	ReasonFrustration = "frustration"
	ReasonEmergency   = "emergency"
)

// Channels shape how long a reply may be.
const (
	ChannelWeb      = "web"
	ChannelSMS      = "sms"
	ChannelWhatsApp = "whatsapp"
)

// Medium is what the engine needs to know of a channel to shape a reply for it. The channel's
// renderer then fits the reply: an SMS sends its first two segments with the link and holds
// the rest for "MAS"; a WhatsApp message holds what passes 1,600 characters.
type Medium struct {
	// Budget is the length, in characters, a composed answer may reach.
	Budget int
	// Written is the length a language model's answer may reach (0: Budget).
	Written int
	// LinkFirst: the first message must keep the answer's own link, so no second ficha is
	// named below the answer ("También puede servirle").
	LinkFirst bool
}

// media are the channels the engine knows without being told (WithMedium adds others); a
// channel it does not know is composed as ChannelWeb.
var media = map[string]Medium{
	ChannelSMS:      {Budget: 1200, Written: 300, LinkFirst: true}, // two segments, link included
	ChannelWhatsApp: {Budget: 1500},
	ChannelWeb:      {Budget: 1200},
}

// EngineOption configures an engine at New.
type EngineOption func(*Engine)

// WithMedium teaches the engine a channel of its own (a new adapter's), or changes how it
// shapes replies for a known one.
func WithMedium(channel string, m Medium) EngineOption {
	return func(e *Engine) {
		if m.Budget > 0 {
			e.media[channel] = m
		}
	}
}

// medium returns the channel the engine composes for and its Medium: the channel itself when
// the engine knows it, otherwise ChannelWeb.
func (e *Engine) medium(channel string) (string, Medium) {
	if m, ok := e.media[channel]; ok {
		return channel, m
	}
	return ChannelWeb, e.media[ChannelWeb]
}

// State is what the engine remembers of a conversation between turns. It is stored as JSON
// with the conversation.
type State struct {
	Slug    string   `json:"slug,omitempty"`    // the ficha the conversation is about
	Asked   []string `json:"asked,omitempty"`   // the citizen's last questions, for a writer's context
	Aspect  string   `json:"aspect,omitempty"`  // the aspect last asked
	Options []string `json:"options,omitempty"` // fichas offered in a clarification
	Misses  int      `json:"misses,omitempty"`  // turns in a row the engine could not answer
	English bool     `json:"english,omitempty"` // the citizen writes in English
	Turns   int      `json:"turns,omitempty"`
	// Whether the citizen opted out is the conversation's (atiende.Conversation.OptOut): the
	// conversation core sets it when the reply's action is ActionOptout, and the channels
	// that can send unasked (SMS, WhatsApp) read it.
}

// Option is one ficha offered in a clarification.
type Option struct {
	N     int    `json:"n"`
	Slug  string `json:"slug"`
	Title string `json:"title"`
}

// Hit is a ficha retrieved for the turn.
type Hit struct {
	Slug  string  `json:"slug"`
	Title string  `json:"title"`
	URL   string  `json:"url"`
	Score float64 `json:"score"`
}

// Reply is the outcome of a turn.
type Reply struct {
	Text    string   `json:"reply"`
	Action  string   `json:"action"`
	Aspect  string   `json:"aspect"`
	Ficha   string   `json:"ficha,omitempty"` // the ficha the reply is about
	Fichas  []Hit    `json:"fichas"`          // retrieved, best first
	Options []Option `json:"options,omitempty"`
	// Handoff is the reason a person must take the conversation, or "".
	Handoff string `json:"handoff,omitempty"`
	// Emergency lists the kinds of emergency detected, most urgent first.
	Emergency []string `json:"emergency,omitempty"`
	English   bool     `json:"english,omitempty"`
	// Offices lists the ids of the offices the reply gives.
	Offices []string `json:"offices,omitempty"`
	// Aspects are the other sections the answered ficha has (requisitos, monto, como,
	// documentos, fechas, costo, in that order): what the citizen may ask of it next.
	Aspects []string `json:"aspects,omitempty"`
	// Also is a second ficha the question's words point to as much as to the one answered,
	// named below the answer (seeAlso); nil when there is none.
	Also *Hit `json:"also,omitempty"`
	// Written is "model" when a language model wrote the answer and it passed the check,
	// "fallback:<reason>" when it was discarded for the extractive one, "" without a model.
	Written string `json:"written,omitempty"`
	// missed: the catalogue had nothing for the message (miss: "no tengo información", or the
	// second such turn handed to a person), as opposed to a refusal or a reply chosen.
	missed bool
	// coverage: of an answer, the share of the message's meaning its ficha matches
	// (retrieval.Result.Coverage); 1 when the ficha was not among the results (a follow-up).
	coverage float64
	// guessed: of an answer, its ficha was found from the words alone: among the results, the
	// fichas model gave it no real chance (probOutside). False for a follow-up or the offices.
	guessed bool
}

// MaxText is the longest text, in characters, a turn accepts.
const MaxText = 2000

// Offices is what the engine needs of the in-person network.
type Offices interface {
	// Locate finds the comuna or region named in the text.
	Locate(text string) (retrieval.Place, bool)
	// Nearest returns the k offices closest to the place.
	Nearest(p retrieval.Place, k int) []retrieval.Nearby
	// MobileIn returns the mobile offices that tour a region.
	MobileIn(region string) []retrieval.Mobile
}

var _ Offices = (*retrieval.Network)(nil)

// Engine runs turns. It holds no per-conversation state and is safe for concurrent use.
type Engine struct {
	r      Retriever
	danger *retrieval.Detector // the learned emergency model; nil: patterns only
	// dangerSet: WithEmergencyModel chose danger, and the bundled model is not loaded.
	dangerSet bool
	offices   Offices           // nil: the engine does not answer where offices are
	writer    *writerState      // nil: answers are extractive only
	judge     *judgeState       // nil: no second opinion (WithJudge)
	observer  Observer          // nil: nobody hears of the turns
	now       func() time.Time  // the day answers are dated against (WithClock)
	media     map[string]Medium // the channels it shapes replies for (WithMedium)
}

// New returns an engine over the catalogue; offices may be nil.
// The bundled emergency model (catalogue/model) is used when there is one.
func New(r Retriever, offices Offices, opts ...EngineOption) *Engine {
	e := &Engine{r: r, offices: offices, now: time.Now, media: maps.Clone(media)}
	for _, o := range opts {
		o(e)
	}
	if !e.dangerSet {
		e.danger = bundledDanger()
	}
	return e
}

// WithClock sets the clock the answers are dated against: an amount past its valid_until is
// never stated as current (tests).
func WithClock(now func() time.Time) EngineOption {
	return func(e *Engine) { e.now = now }
}

// WithEmergencyModel replaces the bundled emergency model (nil: patterns only), which is
// then never loaded. A program can load the bundled one (retrieval.LoadDetector) while it
// builds the index, and give it here.
func WithEmergencyModel(d *retrieval.Detector) EngineOption {
	return func(e *Engine) { e.danger, e.dangerSet = d, true }
}

// WithObserver makes the engine tell o of every turn.
func WithObserver(o Observer) EngineOption {
	return func(e *Engine) { e.observer = o }
}

// Thresholds of the decisions, tuned on eval/cases (see docs/architecture.md).
const (
	// minCoverage: below this share of the question's meaning found in the best ficha, the
	// engine does not answer from it.
	minCoverage = 0.5
	// minStoryCoverage: the least coverage of a long question whose ficha it names twice.
	minStoryCoverage = 0.25
	// strongScore: a BM25F score this high means the ficha's own words were asked, several
	// times or rare ones.
	strongScore = 7.0
	// closeRatio: when the second ficha scores this close to the first and covers as much,
	// the engine asks which one is meant.
	closeRatio = 0.97
	// vagueRatio: a vague question is ambiguous when three fichas score this close to the best.
	vagueRatio = 0.75
	maxOptions = 4
	topK       = 5
	// The learned model's thresholds were chosen on atiende train --dev (docs/eval.md).
	// probSure: the learned model's probability above which its ficha is answered.
	probSure = 0.5
	// probPlausible: below confidence, the least probability for which the likeliest fichas
	// are offered ("¿Sobre cuál…?") instead of "No tengo información".
	probPlausible = 0.15
	// probLikely: below confidence, the least probability for which the best ficha is
	// answered and the next ones offered beside it, rather than only offered.
	probLikely = 0.3
	// probVagueSure: a question that names only a kind of thing several fichas share is
	// answered from the likeliest, the others offered, when the model gives it at least
	// this. On the held-out fifth (seed 1) 15 of 15 such questions at 0.99 had the right
	// ficha first, 16 of 17 at 0.9; but at 0.9 "pension" alone, which must be narrowed, is
	// answered.
	probVagueSure = 0.99
	// Of a single word the model alone is not enough: the words must agree, the model's
	// ficha being also the one they match best (wordsFirst). "pension" alone, which the
	// model came to read at 1.00 as the pensión de gracia, matches the pensión de
	// sobrevivencia's words better, and is narrowed; "el carnet" is the cédula's both ways.
	// Asked of every message, it narrowed 5 held-out questions a seed the model had right
	// ("kiero la partida d mi hijo"); of single words, one ("como me hago chileno"), on
	// seeds 1 and 4.
	// rankLikely: below confidence, the learned ranker's probability (among the first
	// candidates) from which its first ficha is answered, the next ones offered beside it,
	// when the model gives it some chance (probPlausible; the ranker's probability is relative
	// to the candidates, and high for the best of poor ones: "cual es la capital de francia")
	// and the question names more than a kind of thing.
	rankLikely = 0.5
	// minKnownTentative: the least share of the question's words the model must know for a
	// tentative answer.
	minKnownTentative = 0.75
	// offTopicSure: from this probability that no ficha answers, the model's reading wins
	// over a word shared by chance.
	offTopicSure = 0.5
	// storyWords: a message of this many words or more is a story, whose off-topic reading
	// the scope model's overrules (respond).
	storyWords = 10
	// outsideSure: from this probability of the scope model (retrieval.ScopeModel) that the
	// message is about nothing the catalogue holds, a ficha the fichas model gives no real
	// chance (probOutside) is not answered from the words it shares with the message. Never
	// on the scope model's reading alone: where the fichas model sees a ficha ("centro de dia
	// pa mi vieja"), that cost held-out questions.
	outsideSure = 0.5
	// probOutside: below this probability the fichas model gives a ficha no real chance.
	probOutside = 0.05
	// outsideCalm and calmDanger: an emergency the engine is unsure of in a message the scope
	// model reads as off-topic from outsideCalm, with the danger model's p under calmDanger,
	// is no emergency. On the held-out fifth (seed 1), of the messages with unsure lines, 9
	// off-topic ones were read so from 0.8 and no emergency, look-alike or question; the
	// emergencies read most off-topic (0.79, 0.78) had p 0.61 and 0.91, and every off-topic
	// one from 0.8 under 0.36.
	outsideCalm = 0.8
	calmDanger  = 0.4
	// insideMax: under this probability from the scope model and from the fichas model's
	// off-topic label, a message is about something the catalogue holds, and an unsure engine
	// offers its likeliest fichas rather than "no tengo información", whatever their chance.
	// On the held-out fifth: in scope → out 0.008 / 0.009 / 0.010 → 0.004 / 0.004 / 0.006 on
	// seeds 1 / 4 / 7, hit@3 +0.002 to +0.003; one off-topic greeting of 220 gets options.
	insideMax = 0.05
	// outsideUnknown: the scope model's reading that counts even when the models know too
	// few of the message's words (minKnownOutside): "chaito gracias". On the
	// held-out fifth (seed 1) two off-topic messages of 36 answered were read so from 0.9,
	// and no question; action +0.002 on seeds 1, 4 and 7 with the English opt-outs.
	outsideUnknown = 0.9
	// minKnownOutside: the least share of the question's words the models must know for
	// that reading. Off-topic messages are full of words the catalogue never uses, so
	// minKnownTentative would silence it (held-out action 0.882 → 0.872).
	minKnownOutside = 0.5
	// personSure: from this probability that the message wants a person (and above the
	// likeliest ficha's), it is handed to one: the model learned person.tsv's ways of asking.
	personSure = 0.65
	// personOverAnswer: a ficha the engine is confident of is answered unless the model is
	// this sure the message wants a person ("q horario tiene el 101" asks about the 101).
	personOverAnswer = 0.8
	// unsureOptions: how many fichas an unsure engine offers.
	unsureOptions = 3
)

// Turn runs one turn of the conversation: it reads the state and the citizen's text and
// returns the reply and the new state. It never fails: a text it cannot use gets a reply
// that says so.
func (e *Engine) Turn(ctx context.Context, st State, text, channel string) (Reply, State) {
	if e.observer == nil {
		return e.turn(ctx, st, text, channel)
	}
	start := time.Now()
	r, next := e.turn(ctx, st, text, channel)
	channel, _ = e.medium(channel) // as turn reads it; and metrics get no label a client chose
	e.observer.Turn(channel, r.Action, time.Since(start))
	return r, next
}

// Observer hears of every turn (metrics). It must be quick and safe for concurrent use.
type Observer interface {
	// Turn: the channel (ChannelWeb, ChannelSMS, ChannelWhatsApp), the action taken and how
	// long the turn took.
	Turn(channel, action string, took time.Duration)
}

func (e *Engine) turn(ctx context.Context, st State, text, channel string) (Reply, State) {
	st.Turns++
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, " ")
	}
	if n := []rune(text); len(n) > MaxText {
		text = string(n[:MaxText])
	}
	norm := e.r.Normalize(withoutPersonalData(text))
	outside := -1.0 // the scope model's reading of the message, once respond has searched
	tc := turnCtx{ctx: ctx, text: text, outside: &outside}
	english := detectEnglish(norm)
	if norm == "" {
		english = st.English
	}
	st.English = english
	channel, _ = e.medium(channel)

	// Emergencies come first, whatever else the text says or the state holds. When the
	// engine is unsure, the lines go at the top of the reply and the question is still
	// answered: a false alarm costs a line of text, a miss can cost a life.
	kinds, sure, p, pf := e.emergency(norm, st.Slug != "" && opensFollowUp(norm))
	tc.evident = p >= dangerPlain || pf >= dangerEven
	// A few words that go on with a conversation about a ficha ("y hay que pedirla o le llega
	// sola?") are where the model is least reliable: from it alone they get the lines on top of
	// the answer, not the lines instead of it (the patterns stay sure). A few: a story that
	// opens as a follow-up ("y otra cosa, mi hijo se encerró con una soga…", "él
	// llegó con un cuchillo…") is read as it would be alone.
	if sure && p < 1 && st.Slug != "" && isElliptic(norm) && len(strings.Fields(norm)) < storyWords {
		sure = false
	}
	// The emergency model alone sure of a message (the danger model under calmDanger, no
	// pattern's match) that the scope model reads as about nothing the catalogue holds is
	// read as an unsure one, and the rule of small talk below decides: a question about a
	// video game's secret got the emergency reply, and a person was told. The scope model
	// learned the bank's emergencies as inside the catalogue (held-out fifth, seeds 1 and 4:
	// one off-topic message a seed, nothing else; docs/eval.md, twenty-eighth session).
	if sure && p < calmDanger {
		if f := e.r.Find(ctx, retrieval.Query{Text: norm}, 1); f.Outside >= outsideCalm {
			sure = false
		}
	}
	if sure {
		r := e.emergencyReply(kinds, english)
		// A sure emergency that also asks something a ficha answers for sure ("mi marido me
		// pega, ¿dónde lo denuncio?") gets that answer below the lines; one that only tells
		// what is happening gets the lines alone.
		if asks(text, norm) {
			tc.extractive = true
			if a, next := e.respond(tc, st, text, norm, channel, english); a.Action == ActionAnswer && a.Ficha != "" && len(a.Options) == 0 {
				r.Text += "\n\n" + a.Text
				r.Aspect, r.Ficha, r.Fichas, r.English = a.Aspect, a.Ficha, a.Fichas, a.English
				next.Options, next.Misses = nil, 0
				return r, next
			}
		}
		st.Options, st.Misses = nil, 0
		st = r.about(st)
		return r, st
	}
	// A language model, when there is one, reads the message beside the turn: it may add
	// an emergency the engine did not see, never remove one.
	judged := e.askDanger(ctx, text, norm)
	r, st := e.respond(tc, st, text, norm, channel, english)
	// An ordinary question answered for sure from one ficha, or a request the engine reads
	// for sure (stop, hola, a role to play), needs more evidence of danger than the model's
	// faintest (docs/eval.md, "Emergencies"): the danger model's dangerPlain, or the
	// emergency model's even odds. Not an answer from the ficha of a line itself (the
	// *4141's, the 1455's, the 149's): a message the engine reads for sure as about that line
	// is about the emergency it serves, and any danger the models read in it keeps the lines
	// on top (held-out fifth: 2 more emergencies with their lines a seed, for 2 or 3
	// look-alikes; docs/eval.md, twenty-third session). Nor an answer the fichas model gives
	// no real chance (probOutside), found from the words alone: the engine does not
	// understand that message, so it cannot vouch that it is an ordinary question (a rope
	// made ready, told beside a question on the survivor's pension, was answered from the
	// words "pensión" and "hijos"), and a faint danger reading keeps the lines (five held-out
	// folds: 6 more emergencies of 4,782 for 16 look-alikes of 3,832; docs/eval.md,
	// thirtieth session).
	evident := tc.evident
	plain := r.Action == ActionAnswer && len(r.Options) == 0 && !isLineFicha(r.Ficha) && !r.guessed &&
		(asks(text, norm) || r.coverage >= minCoverage)
	if len(kinds) > 0 && !evident && (plain || plainRequest(norm)) {
		kinds = nil
	}
	// A message the scope model reads as about nothing the catalogue holds ("que le doy de
	// comer a mi hamster") and the danger model as faintly dangerous at most is small talk,
	// not an unsure emergency: it would get the emergency reply, and a person would be told.
	// The scope model learned the bank's emergencies as inside the catalogue.
	if len(kinds) > 0 && outside >= outsideCalm && p < calmDanger {
		kinds = nil
	}
	if added := judged(); len(added) > 0 {
		all := append(kinds, added...)
		kinds = nil
		for _, k := range urgency {
			if slices.Contains(all, k) {
				kinds = append(kinds, k)
			}
		}
	}
	// An emergency the engine is unsure of, in a message it has no answer for (nothing the
	// catalogue holds, or only options to choose from), has nothing to put the lines above:
	// with the evidence an answered question would need to keep its lines, it gets the
	// emergency reply and a person is told, rather than the lines over "no tengo información"
	// or over a list of fichas.
	if len(kinds) > 0 && evident && (r.missed || r.Action == ActionClarify) {
		st.Options, st.Misses = nil, 0
		er := e.emergencyReply(kinds, english)
		return er, er.about(st)
	}
	if len(kinds) > 0 && r.Action != ActionEmergency {
		r.Emergency = kinds
		r.Text = emergencyLines(kinds, english) + "\n\n" + r.Text
	}
	return r, st
}

// emergencyReply is the reply of an emergency: its lines alone, and a person is told. It is
// about the ficha of its first line (lineFicha) when the catalogue holds it: that is what the
// channels link to, and what a follow-up ("¿es gratis?") asks about.
func (e *Engine) emergencyReply(kinds []string, english bool) Reply {
	r := Reply{Action: ActionEmergency, Aspect: retrieval.AspectGeneral, Text: emergencyText(kinds, english),
		Emergency: kinds, Handoff: ReasonEmergency, English: english}
	for _, k := range kinds {
		if h, ok := e.Ficha(lineFicha[k]); ok {
			r.Ficha, r.Fichas = h.Slug, []Hit{h}
			break
		}
	}
	return r
}

// about is the state after an emergency reply: the conversation is about the reply's ficha,
// when it has one.
func (r Reply) about(st State) State {
	if r.Ficha != "" {
		st.Slug, st.Aspect = r.Ficha, retrieval.AspectGeneral
	}
	return st
}

// respond is the turn once the text is known not to be a sure emergency.
func (e *Engine) respond(tc turnCtx, st State, text, norm, channel string, english bool) (Reply, State) {
	// Words addressed to the assistant are not followed, nor let stand in the way of the
	// question beside them; with no question beside them, the message is refused.
	if clean, injected := stripInjected(text, e.r.Normalize); injected {
		text = clean
		norm = e.r.Normalize(withoutPersonalData(text))
		tc.text = text
		tc.injected = true
		if norm == "" {
			st.Options = nil
			return e.simple(ActionOutOfScope, msgRefuse, english), st
		}
	}
	sq := squeeze(norm) // a stretched greeting or thanks ("holaaa"), read by the rules below
	switch {
	case norm == "" && thanksEmoji(text):
		// A thumbs-up or a heart after an answer thanks for it, as "ok gracias" does.
		return e.simple(ActionGoodbye, msgGoodbye, english), st
	case norm == "":
		return e.simple(ActionGreet, msgEmpty, english), st
	case optoutRe.MatchString(norm) || optoutPhraseRe.MatchString(norm):
		return e.simple(ActionOptout, msgOptout, english), st
	case requestsPerson(norm):
		return e.handoff(st, ReasonRequest, english)
	case personalRe.MatchString(norm):
		return e.handoff(st, ReasonPersonal, english)
	case injectionRe.MatchString(norm):
		st.Options = nil
		return e.simple(ActionOutOfScope, msgRefuse, english), st
	case asksOthers(text, norm):
		st.Options = nil
		return e.simple(ActionOutOfScope, msgPrivacy, english), st
	case greetRe.MatchString(sq):
		return e.simple(ActionGreet, msgGreet, english), st
	case goodbyeRe.MatchString(sq):
		st.Options = nil
		return e.simple(ActionGoodbye, msgGoodbye, english), st
	case helpOnly(sq):
		// Asked again after a turn the engine could not answer, it is a person's to help.
		if st.Misses > 0 {
			return e.handoff(st, ReasonRequest, english)
		}
		st.Options, st.Misses = nil, 1
		return e.simple(ActionClarify, msgHelp, english), st
	}
	aspect := detectAspect(norm)
	ownAspect := aspect // what the citizen asked, before the conversation lends its own
	offered := st.Options
	// "no era eso" after an answer: the others offered beside it, when there were some, or a
	// question in other words; never the same answer again (the message names nothing, so
	// it read as a follow-up about the ficha just answered). After options alone, they are
	// not what the citizen wants either: other words are asked for.
	if notThatRe.MatchString(norm) && (st.Slug != "" || len(st.Options) > 0) {
		answered := st.Slug != ""
		st.Slug, st.Aspect = "", ""
		if answered && len(st.Options) > 0 {
			return e.offerAgain(st, "", english)
		}
		st.Options = nil
		return e.simple(ActionClarify, msgNotThat, english), st
	}
	// "no perdón, era el de matrimonio", "no, no es eso, me la rechazaron…": the ficha being
	// talked about is turned down and the rest says which one instead. The rest is read as a
	// message of its own, and the ficha turned down is not answered again.
	corrected := false
	if st.Slug != "" {
		if m := correctionRe.FindString(norm); m != "" && strongCorrectionRe.MatchString(m) && len(m) < len(norm) {
			norm, corrected = strings.TrimSpace(norm[len(m):]), true
			aspect = detectAspect(norm)
			ownAspect = aspect
		}
	}
	if len(st.Options) > 0 {
		if slug, ok := e.choose(tc.ctx, st.Options, text, norm); ok {
			if aspect == "" {
				aspect = st.Aspect
			}
			st.Options = nil
			return e.answer(tc, st, slug, aspect, channel, english, nil)
		}
		// A number that is none of them ("5" of three) asks again, with the options kept.
		if bareChoiceRe.MatchString(norm) {
			return e.offerAgain(st, st.Aspect, english)
		}
		st.Options = nil
	} else if bareChoiceRe.MatchString(norm) {
		// A number with no options to choose from ("1" after an answer, or after the
		// conversation was forgotten) names no ficha: read as words it matched a ficha with
		// that number in its title ("DS 1"). The conversation stays where it was.
		return e.simple(ActionClarify, msgNoChoice, english), st
	}

	// Frustration is read below, once the candidates are known; an office named in anger ("me
	// atendieron pésimo en la sucursal de…") is no question where the office is.
	frustrated := frustratedRe.MatchString(norm)

	// "y el pasaporte?" after "cuanto cuesta el carnet" asks the same thing of another ficha.
	if aspect == "" && st.Aspect != "" && (st.Slug != "" || len(offered) > 0) && isElliptic(norm) {
		aspect = st.Aspect
	}

	residual := strings.TrimSpace(cueWordsRe.ReplaceAllString(norm, " "))
	q := retrieval.Query{Text: residual, Exact: english, Whole: norm, InConversation: st.Slug != ""}
	// "de matrimonio" after options that are mostly certificados leaves out the noun they
	// share: the words and the learned model read it with that noun.
	if st.Slug == "" && len(offered) > 0 && (elidedNounRe.MatchString(norm) || elidedChoiceRe.MatchString(norm)) {
		if kind := e.sharedKind(offered); kind != "" {
			q.Context, q.Whole = kind, kind+" "+norm
		}
	}
	found := e.r.Find(tc.ctx, q, topK)
	tc.read(found)
	// A message that asks where to be served in person, in a place the office network knows,
	// gets the nearest offices, and so does a place named alone while the conversation is
	// about them ("¿y en Valdivia?"). Not one the fichas model reads for sure as about another
	// ficha, whose words name an office or a town on the way ("cerraron la sucursal donde
	// trabajaba en Talca, ¿cuánto me paga el seguro?"), nor one it reads as about nothing the
	// catalogue holds (a mall or a cinema near a town): docs/eval.md, twenty-ninth session.
	asksWhere := asksOffice(norm) || st.Slug == officeFicha && isElliptic(norm)
	if e.offices != nil && asksWhere && !frustrated && !readsOtherFicha(found, officeFicha) && found.OffTopic < offTopicSure {
		if p, ok := e.offices.Locate(text); ok {
			// The reply is about the offices' own ficha: its link is the list of branches, and a
			// follow-up ("¿y qué llevo?") asks about it.
			r := e.officeReply(p, channel, english)
			st.Slug, st.Aspect, st.Misses, st.Options = "", retrieval.AspectComo, 0, nil
			if h, ok := e.Ficha(officeFicha); ok {
				r.Ficha, r.Fichas, st.Slug = h.Slug, []Hit{h}, h.Slug
			}
			return r, st
		}
	}
	// Frustration ("no me entiendes", "pésimo", "no me sirve") goes to a person, unless the
	// message also asks for another ficha the model is sure of, and not for a person: "me
	// atendieron pésimo en la empresa eléctrica, ¿dónde reclamo?" is angry at someone else and
	// asks where to complain; "…y quiero que alguien me escuche" asks for a person.
	if frustrated && (max(found.Person, found.Wants) >= personSure ||
		!(len(found.Results) > 0 && found.Results[0].Prob >= probSure && found.Results[0].Ficha.Slug != st.Slug)) {
		return e.handoff(st, ReasonFrustration, english)
	}
	// Thanks that ask nothing more ("ya grax", "gracias por la info", "great, thanks!") end the
	// conversation as "gracias" does, whatever words come with them; not when those words
	// name a ficha the engine is sure of ("gracias, y la pgu").
	if thanked(text, norm) && (len(found.Results) == 0 || found.Results[0].Prob < probSure) {
		st.Options = nil
		return e.simple(ActionGoodbye, msgGoodbye, english), st
	}
	// A message is read as about the ficha being talked about when it is short or starts
	// like a follow-up ("y…", "pero…"), or when the follow-up model reads it as what citizens
	// write in the middle of a conversation ("por cuantos meses se paga?"), or when its last
	// sentence is one of those after a remark ("jaja me muero con la foto. ¿y cuánto vale?").
	followUp := st.Slug != "" && (isElliptic(norm) || found.FollowUp >= followUpSure)
	// The last sentence: not of a message the learned model, reading it whole, is sure of
	// another ficha, for a new question often ends in a few words ("…sin ir a clases porque
	// trabajo en el campo. ¿Cómo me inscribo?"). The aspect, when the last sentence asks one,
	// is the last sentence's: the remark's words ("me mata el precio") ask nothing.
	if st.Slug != "" && (len(found.Results) == 0 || found.Results[0].Prob < probSure || found.Results[0].Ficha.Slug == st.Slug) {
		if last, ok := endsElliptic(text, e.r.Normalize); ok {
			followUp = true
			if a := detectAspect(last); a != "" {
				aspect, ownAspect = a, a
			}
		}
	}
	// A follow-up whose own words rank the ficha being talked about close to the best stays
	// on it ("y para quien es?"); the context below must not make it sticky.
	// "bono", "otro bono", "que bonos hay" after a bono's answer name only the kind of thing:
	// the citizen is asking about the others, and gets them to choose from, not the same
	// answer again.
	// "hay otros beneficios?" says so in as many words, whatever the ranking.
	if followUp && ownAspect == "" && (anotherRe.MatchString(norm) || found.Vague && e.namesKindOf(tc.ctx, residual, st.Slug)) {
		if cur, ok := e.r.Ficha(st.Slug); ok {
			if others := e.others(tc.ctx, cur, residual, offered); len(others) > 0 {
				return e.offerOthers(st, cur, others, aspect, english)
			}
		}
		others := slices.DeleteFunc(slices.Clone(found.Results), func(r retrieval.Result) bool { return r.Ficha.Slug == st.Slug })
		if len(others) > 0 {
			return e.clarify(st, others, aspect, english)
		}
	}
	// "y cuanto es el bono?" asks an aspect of the bono being talked about.
	// The follow-up model keeps on it a message that holds words of other fichas but reads as
	// a follow-up ("me lo depositan en la cuenta rut?"), unless the message is a few words
	// that name another ficha by its title ("y el pasaporte?") or only a kind of thing
	// ("certificado"): those are the rules' to read.
	named := namesAnother(found.Results, st.Slug, norm)
	// A kind of thing and an aspect ("y los requisitos del bono?") ask about the ficha being
	// talked about, unless the words are the whole title of another ("y el seguro de
	// cesantía, cómo lo cobro?").
	titled := named && found.Results[0].TitleCoverage >= 1
	stays := followUp && !corrected && (staysOn(found.Results, st.Slug) || (found.Vague && ownAspect != "" && !titled) || !named ||
		found.FollowUp >= followUpSure && !namesInFewWords(found, norm))
	elided := followUp && !stays && elidedNounRe.MatchString(norm)
	if followUp && !stays && (len(found.Results) == 0 || !confident(found.Results[0]) || ambiguous(found, st.Slug) || elided) {
		// An elliptic question the words alone do not settle: the ficha being talked about
		// lends its title as context. A question whose noun is left out ("y el de
		// matrimonio?" after the birth certificate) is read whole with the title, by the
		// model too: its noun is the title's.
		if f, ok := e.r.Ficha(st.Slug); ok {
			q.Context = f.Title
			if elided {
				q.Whole = f.Title + " " + norm
			}
			found = e.r.Find(tc.ctx, q, topK+1)
			tc.read(found)
			// The context picks among the other fichas; it must not pull the conversation back
			// to the current one unless the citizen's words stand in its title, keywords or
			// summary ("certificado" after the PGU is not about the PGU).
			kept := found.Results[:0]
			for _, r := range found.Results {
				if r.Ficha.Slug != st.Slug || r.Strong > 0 {
					kept = append(kept, r)
				}
			}
			found.Results = kept
		}
	}
	// Unless the rest names it by its whole title: "no, lo que necesito es el certificado de
	// defunción de mi tío" after the one of a father turns down the person, not the ficha.
	if corrected && !(len(found.Results) > 0 && found.Results[0].Ficha.Slug == st.Slug && found.Results[0].TitleCoverage >= 1) {
		found.Results = slices.DeleteFunc(found.Results, func(r retrieval.Result) bool { return r.Ficha.Slug == st.Slug })
	}
	if english || found.English {
		english = true
		st.English = true
	}

	// Nothing but an aspect ("y los requisitos?"): the same ficha, another section.
	if found.Groups == 0 {
		if st.Slug != "" {
			if aspect == "" {
				aspect = retrieval.AspectGeneral
			}
			return e.answer(tc, st, st.Slug, aspect, channel, english, nil)
		}
		if len(offered) > 0 {
			// "que documentos piden?" while choosing: offer the same options again.
			st.Options, st.Misses = offered, 0
			return e.offerAgain(st, aspect, english)
		}
		st.Aspect = aspect
		return e.simple(ActionClarify, msgWhich, english), st
	}
	res := found.Results
	// A message that stays on the ficha by its form (a few words, "y…") but that asks no
	// aspect of it, and that the models read as chat ("y tú de qué equipo eres?"), is chat:
	// not one more answer about the ficha. All three readings must agree: the fichas model
	// and the scope model read many a held-out follow-up ("me conviene?", "no cache") as
	// outside too, but not the follow-up model (chatFollowUp). The conversation keeps its
	// ficha for what comes next.
	if stays && ownAspect == "" && !tc.injected && found.OffTopic >= offTopicSure && found.Outside >= outsideSure && found.FollowUp < chatFollowUp {
		return e.simple(ActionOutOfScope, msgOutOfScope, english), st
	}
	if stays {
		return e.answer(tc, st, st.Slug, orGeneral(aspect), channel, english, res)
	}
	// A case of the citizen's own ("mi caso") that no ficha answers for sure is a person's
	// to look into (understand.go, ownCaseRe).
	if ownCaseRe.MatchString(norm) && (len(res) == 0 || !confident(res[0])) && !tc.injected {
		return e.handoff(st, ReasonPersonal, english)
	}
	// The model reads the message as wanting a person, in words no pattern above knows ("me
	// puede llamar alguien", "llevo meses esperando el pago y nadie me dice nada"): handed
	// over, with the ficha it names, if any, for the agent's queue. Two readings: the fichas
	// model's person label, and the person model's (retrieval.PersonModel), made for that
	// one question, which hears a few more ("quisiera una llamada de un asesor"); the surer
	// one counts. On the held-out fifth it handed over 2 more of 82 requests for a person,
	// and changed nothing else (docs/eval.md, sixteenth session).
	wants := max(found.Person, found.Wants)
	if wants >= personSure && (len(res) == 0 || wants > res[0].Prob && (!confident(res[0]) || wants >= personOverAnswer)) && !tc.injected {
		reason := ReasonRequest
		// Not of a word that only names a kind of thing ("alguien que me ayude, xfa": "ayuda"
		// is in the title of the Ayudas técnicas, and the conversation went on about them).
		if len(res) > 0 && res[0].Named > 0 && !found.Vague {
			reason, st.Slug = ReasonPersonal, res[0].Ficha.Slug
		}
		return e.handoff(st, reason, english)
	}
	// The model reads the question as about nothing the catalogue holds ("cual es el mejor
	// celular"): a ficha that shares a word with it is neither answered nor offered, unless
	// the question's words are mostly that ficha's. Not when the scope model, made for that one
	// question, is sure the message is inside the catalogue (insideMax): the fichas model's
	// off-topic label reads a long story that opens with greetings ("hola buenas tardes, le
	// escribo porque…") as chat, and the citizen got "no tengo información" about the bono
	// the story asks for. Only of a story (storyWords): the label reads short messages well,
	// and the scope model is wrong of some ("plantas pal jardin que aguanten pleno sol"). Not
	// of a story the danger readings see an emergency in: told it is off-topic, it gets the
	// emergency reply and a person (docs/eval.md, twenty-fifth session).
	story := len(strings.Fields(norm)) >= storyWords && !tc.evident
	offTopic := found.OffTopic >= offTopicSure && !(story && found.Outside >= 0 && found.Outside < insideMax)
	// The scope model reads it so too, and the fichas model, knowing at least half its words,
	// gives the best ficha no real chance: the words the ficha shares with the question ("que
	// hora es en españa") are chance, however many of them there are. Of a question in words
	// the models never saw ("como saco la klave unika"), neither reading says much, unless the
	// scope model is all but sure ("chaito gracias": outsideUnknown).
	outside := len(res) > 0 && res[0].Prob < probOutside && found.Outside >= outsideSure && (found.Known >= minKnownOutside || found.Outside >= outsideUnknown)
	offTopic = offTopic || outside
	if len(res) == 0 || !confident(res[0]) || (offTopic && res[0].Coverage < minCoverage) || outside {
		if followUp && aspect != "" {
			return e.answer(tc, st, st.Slug, aspect, channel, english, res)
		}
		// A language model, when there is one, may choose among the candidates first: the
		// one it chooses is answered, and the others offered beside it.
		if len(res) > 0 && (plausible(res[0]) || likely(res[0], found)) && !offTopic {
			if picked, ok := e.judgeChoice(tc, res); ok {
				return e.tentative(tc, st, picked, aspect, channel, english)
			}
		}
		// A likely ficha is answered, with the next ones offered in case it is not the one:
		// on our held-out questions (atiende train --dev) the likeliest was right about two times in three here.
		// Not for a message that also tried to instruct the assistant: what is left of it is
		// answered only when the engine is sure.
		if len(res) > 0 && likely(res[0], found) && !offTopic && !tc.injected {
			return e.tentative(tc, st, res, aspect, channel, english)
		}
		// Candidates the engine is unsure of are offered rather than nothing at all. It is
		// still a turn the engine could not answer: the second in a row goes to a person.
		// So are the candidates of a message both models read as about something the catalogue
		// holds, however faint each ficha's chance: a long story that ends in a question. Not
		// those of a message the scope model reads as off-topic (outsideSure): "que opinas del
		// presidente" is asked no "¿Sobre cuál…?" (held-out action +0.001 on seeds 1, 4 and 7,
		// no question's options lost).
		if len(res) > 0 && (plausible(res[0]) || inside(found)) && st.Misses == 0 && !offTopic && found.Outside < outsideSure {
			r, next := e.clarify(st, res[:min(len(res), unsureOptions)], aspect, english)
			next.Misses = 1
			return r, next
		}
		return e.miss(st, english)
	}
	if ambiguous(found, st.Slug) {
		// A kind of thing that one ficha is nearly always what citizens mean by ("el carnet":
		// the cédula, not its blocking or its online renewal) is answered, the others
		// offered beside it, when the model is all but certain.
		if found.Vague && res[0].Prob >= probVagueSure && found.Known >= minKnownTentative && (found.Groups > 1 || wordsFirst(res)) && !tc.injected {
			return e.tentative(tc, st, res, aspect, channel, english)
		}
		// Two fichas all but tied may be told apart by a language model; a question that
		// only names a kind of thing ("bono") is the citizen's to narrow.
		if !found.Vague {
			if picked, ok := e.judgeChoice(tc, res); ok {
				return e.tentative(tc, st, picked, aspect, channel, english)
			}
		}
		return e.clarify(st, res, aspect, english)
	}
	r, next := e.answer(tc, st, res[0].Ficha.Slug, aspect, channel, english, res)
	// Not on a channel whose first message keeps the answer's own link (SMS: the line would
	// take its place), nor below emergency lines (an extractive answer).
	if st.Slug != r.Ficha && !e.media[channel].LinkFirst && !tc.extractive {
		e.seeAlso(&r, res, aspect, channel, english)
	}
	return r, next
}

// wordsFirst reports whether the first result is also the one the words match best: no
// other result has a higher lexical score.
func wordsFirst(res []retrieval.Result) bool {
	for _, r := range res[1:] {
		if r.Lexical > res[0].Lexical {
			return false
		}
	}
	return true
}

// alsoLexical: a runner-up whose words match at least this share of the answered ficha's
// lexical score, and more of the question, is named below the answer (seeAlso).
const alsoLexical = 0.9

// seeAlso names, below a sure answer, the next ficha when the question's own words point
// to it as much as to the one answered: it covers more of the question and scores almost
// as high on words, though the ranking (the learned model above all) chose the other.
// Two services that both apply ("días de permiso por un hijo con cáncer": the 10 days of
// the Código del Trabajo, and the Ley SANNA) are then both in front of the citizen, and a
// near neighbour picked wrong leaves the right one one tap away. When the second ficha answers
// the aspect asked (its days, its amount, its requisites) and the channel has room, its first
// line of that answer comes with it: the citizen reads both rules ("hasta 10 jornadas",
// "hasta 180 días") without asking again. An answer to a follow-up about the same ficha names
// none (the citizen has seen it).
func (e *Engine) seeAlso(r *Reply, res []retrieval.Result, aspect, channel string, english bool) {
	if r.Action != ActionAnswer || r.Ficha == "" || len(res) < 2 || res[0].Ficha.Slug != r.Ficha {
		return
	}
	a, b := res[0], res[1]
	if b.Coverage <= a.Coverage || b.Lexical < alsoLexical*a.Lexical || b.Ficha.URL == a.Ficha.URL {
		return
	}
	h := hit(b.Ficha, b.Score)
	r.Also = &h
	label, more := "También puede servirle: ", "Más información: "
	if english {
		label, more = "This may also help you: ", "More information: "
	}
	also := "\n\n" + label + b.Ficha.Title + ": " + b.Ficha.URL
	if section, items := sectionFor(b.Ficha, orGeneral(aspect)); section != "" && section != retrieval.AspectGeneral && section != retrieval.AspectComo {
		now := e.now()
		if items, expired := current(items, now); len(items) > 0 && !expired {
			with := "\n\n" + label + b.Ficha.Title + ":\n" + itemText(items[0], english, now) + "\n" + more + b.Ficha.URL
			if len(r.Text)+len(with) <= e.media[channel].Budget {
				also = with
			}
		}
	}
	r.Text += also
}

// followUpSure: from this probability of the follow-up model (retrieval.FollowUpModel) a
// message in a conversation about a ficha stays on it, whatever words of other fichas it
// holds. Chosen on held-out follow-ups (atiende train --dev).
const followUpSure = 0.6

// namesInFewWords reports whether a message of a few words names a kind of thing or the
// title of the first ficha found: "y el pasaporte?", "certificado".
func namesInFewWords(found retrieval.Found, norm string) bool {
	w := strings.Fields(retrieval.FollowUpText(norm))
	if len(w) > 3 {
		return false
	}
	return found.Vague || len(found.Results) > 0 && found.Results[0].TitleCoverage > 0
}

// namesAnother reports whether a follow-up's words name a ficha other than the current one:
// a word of its title or keywords ("y el pasaporte?"). A follow-up that points back with a
// pronoun ("y eso lo pagan solo o hay que pedirlo?", "y cuánto dura esa ayuda?") speaks of
// the ficha being talked about unless it names a word of another's title. The learned model
// is no evidence here: on a few words cut from their conversation it is often sure of a ficha
// nobody named.
func namesAnother(res []retrieval.Result, current, norm string) bool {
	if len(res) == 0 || res[0].Ficha.Slug == current {
		return false
	}
	if anaphoraRe.MatchString(norm) {
		return res[0].TitleCoverage > 0
	}
	return res[0].Named > 0
}

// elidedNounRe: a follow-up that leaves its noun out, on normalised text: an article before
// "de" or "para" ("y el de matrimonio?", "la del agua", "y los para mayores?"). Among options,
// "de" alone does too ("de matrimonio"); after an answer it more often asks something of the
// same ficha ("de cuanto es?").
var (
	elidedNounRe   = regexp.MustCompile(`^(?:(?:y|e|pero|and) )?(?:el|la|los|las|lo) (?:de|del|para|pa)\b`)
	elidedChoiceRe = regexp.MustCompile(`^(?:de|del)\b`)
)

// sharedKind returns the word most of the fichas' titles begin with, normalised
// ("certificado"), or "" when no word begins more than half of them.
func (e *Engine) sharedKind(slugs []string) string {
	count := map[string]int{}
	for _, slug := range slugs {
		if f, ok := e.r.Ficha(slug); ok {
			if first, _, _ := strings.Cut(e.r.Normalize(f.Title), " "); first != "" {
				count[first]++
			}
		}
	}
	for w, n := range count {
		if 2*n > len(slugs) {
			return w
		}
	}
	return ""
}

// anaphoraRe: words that point back to what was being talked about, on normalised text: a
// demonstrative, or a pronoun joined to an infinitive ("pedirla", "cobrarlo").
var anaphoraRe = regexp.MustCompile(`\b(?:eso|esa|ese|esos|esas|esto|estos|it|them)\b|\b\w+(?:ar|er|ir)(?:la|lo|las|los|le|les)\b`)

// namesKindOf reports whether the words name the kind of thing the ficha is: a word of its
// title ("bono" after the Bono de Invierno; not "se paga").
func (e *Engine) namesKindOf(ctx context.Context, words, slug string) bool {
	f := e.r.Find(ctx, retrieval.Query{Text: words, Only: []string{slug}}, 1)
	return len(f.Results) > 0 && f.Results[0].TitleCoverage > 0
}

// staysOn reports whether the current ficha scores close to the best one.
func staysOn(res []retrieval.Result, current string) bool {
	for _, r := range res {
		if r.Ficha.Slug == current {
			return r.Score >= 0.8*res[0].Score
		}
	}
	return false
}

// officeFicha is the ficha of the offices themselves: a question the model reads as about it
// (or about no ficha for sure) is answered with the nearest offices (officeReply), and the
// reply is about it.
const officeFicha = "chileatiende-oficinas"

// readsOtherFicha reports whether the fichas model is sure of a ficha other than slug.
func readsOtherFicha(found retrieval.Found, slug string) bool {
	return len(found.Results) > 0 && found.Results[0].Ficha.Slug != slug && found.Results[0].Prob >= probSure && confident(found.Results[0])
}

// confident reports whether the best ficha answers the question: the learned model is sure
// of it; or it holds most of what the citizen asked; or, for a long question told as a story,
// a fair part of it, with two of its words in the ficha's title, keywords or summary, or a
// score only rare words reach.
func confident(r retrieval.Result) bool {
	return (r.Prob >= probSure && r.Coverage > minStoryCoverage) || r.Coverage >= minCoverage ||
		(r.Coverage >= minStoryCoverage && (r.Strong >= 2 || r.Lexical >= strongScore))
}

// likely reports whether a ficha the engine is not confident of is still likely enough to be
// answered, with others offered beside it (tentative): the model gives it a fair chance and
// knows most of the question's words, or it knows them and the learned ranker gives the ficha
// most of the chance among the first candidates. A word it never saw may name what the
// catalogue lacks ("el bono para mascotas"); that question gets options, not an answer.
func likely(r retrieval.Result, found retrieval.Found) bool {
	return r.Prob >= probLikely && found.Known >= minKnownTentative ||
		r.Rank >= rankLikely && r.Prob >= probPlausible && found.Known >= minKnownTentative && !found.Vague
}

// plausible reports whether a ficha the engine is not confident of is still worth offering:
// the model gives it some chance, or the question's words cover part of it.
func plausible(r retrieval.Result) bool {
	return r.Prob >= probPlausible || r.Coverage >= minStoryCoverage
}

// inside reports whether the scope model and the fichas model's off-topic label both read the
// message as about something the catalogue holds, each under insideMax.
func inside(found retrieval.Found) bool {
	return found.Outside >= 0 && found.Outside < insideMax && found.OffTopic < insideMax
}

// ambiguous reports whether the citizen must choose: the question names only a kind of thing
// ("bono", "certificado") that several fichas share about equally, or the two best fichas
// are all but tied.
func ambiguous(found retrieval.Found, current string) bool {
	res := found.Results
	if len(res) < 2 || res[0].Ficha.Slug == current {
		return false
	}
	// The question names the whole title of the best ficha and not of the next: it is meant.
	if res[0].TitleCoverage == 1 && res[1].TitleCoverage < 1 {
		return false
	}
	if found.Vague {
		// The words name a kind of thing: whether several fichas share them is a question of
		// words, and the learned model's preference for one of them is no evidence of which.
		top := 0.0
		for _, r := range res {
			top = max(top, r.Lexical)
		}
		near := 0
		for _, r := range res {
			if r.Lexical >= vagueRatio*top {
				near++
			}
		}
		if near >= 3 {
			return true
		}
	}
	return res[1].Score >= closeRatio*res[0].Score && res[1].Coverage >= res[0].Coverage
}

// isElliptic reports whether the text leans on what came before: "y el de matrimonio?",
// "y para extranjeros", or a few words only.
func isElliptic(norm string) bool {
	return opensFollowUp(norm) || len(strings.Fields(norm)) <= 4
}

// endsElliptic reports whether a message of more than one sentence ends with a few words
// ("¿y el valor?"), or with an aspect asked in not many more ("¿en qué fecha se abre?"): a
// remark, then the question about the ficha being talked about. It returns that last
// sentence, normalised. A longer last sentence ("¿y existe algún subsidio para el agua?") is
// read with the rest, as any message is.
func endsElliptic(text string, normalize func(string) string) (string, bool) {
	parts := strings.FieldsFunc(text, func(r rune) bool {
		return r == '.' || r == '!' || r == '?' || r == ';' || r == '¿' || r == '¡' || r == '\n'
	})
	var last string
	n := 0
	for _, p := range parts {
		if p = normalize(withoutPersonalData(p)); p != "" {
			last = p
			n++
		}
	}
	if n < 2 {
		return "", false
	}
	words := len(strings.Fields(last))
	return last, words <= ellipticWords || detectAspect(last) != "" && words <= ellipticAspectWords
}

// chatFollowUp: under this probability of the follow-up model, a few words in a conversation
// that the fichas and scope models read as off-topic are chat (respond).
const chatFollowUp = 0.15

// ellipticWords, ellipticAspectWords: a last sentence of at most ellipticWords words, or
// of at most ellipticAspectWords that asks an aspect, reads as a follow-up (endsElliptic).
const ellipticWords, ellipticAspectWords = 4, 6

// thanked reports whether the message thanks and asks nothing more: thanks (thanksRe), no
// question (asks), no words of a request (stillAsksRe), and a few words at most.
func thanked(text, norm string) bool {
	return thanksRe.MatchString(squeeze(norm)) && !asks(text, norm) && !stillAsksRe.MatchString(norm) && len(strings.Fields(norm)) <= thanksWords
}

// thanksWords: the longest message of thanks read as a goodbye (thanked).
const thanksWords = 8

// opensFollowUp reports whether the normalised text opens as words that go on from what
// came before: "y…", "pero…", "el…".
func opensFollowUp(norm string) bool {
	first, _, _ := strings.Cut(norm, " ")
	switch first {
	case "y", "e", "pero", "tambien", "and", "what", "entonces", "ese", "esa", "eso", "el", "la":
		return true
	}
	return false
}

func (e *Engine) simple(action string, p phrase, english bool) Reply {
	return Reply{Action: action, Aspect: retrieval.AspectGeneral, Text: p.in(english), English: english}
}

func (e *Engine) handoff(st State, reason string, english bool) (Reply, State) {
	st.Options, st.Misses = nil, 0
	r := e.simple(ActionHandoff, msgHandoff[reason], english)
	r.Handoff = reason
	if f, ok := e.r.Ficha(st.Slug); ok {
		r.Fichas = []Hit{hit(f, 0)}
	}
	return r, st
}

// miss is a turn the engine could not answer: the second in a row goes to a person.
func (e *Engine) miss(st State, english bool) (Reply, State) {
	st.Misses++
	st.Options = nil
	var r Reply
	if st.Misses >= 2 {
		r, st = e.handoff(st, ReasonFailure, english)
	} else {
		r = e.simple(ActionOutOfScope, msgOutOfScope, english)
	}
	r.missed = true
	return r, st
}

func (e *Engine) clarify(st State, res []retrieval.Result, aspect string, english bool) (Reply, State) {
	r := Reply{Action: ActionClarify, Aspect: orGeneral(aspect), English: english}
	st.Options = nil
	for i, x := range res {
		if i == maxOptions {
			break
		}
		r.Options = append(r.Options, Option{N: i + 1, Slug: x.Ficha.Slug, Title: x.Ficha.Title})
		st.Options = append(st.Options, x.Ficha.Slug)
	}
	for _, x := range res {
		r.Fichas = append(r.Fichas, hit(x.Ficha, x.Score))
	}
	st.Aspect = aspect
	st.Misses = 0
	r.Text = composeOptions(r.Options, english)
	return r, st
}

// notThatRe is a message that only says the answer was not what the citizen asked.
var notThatRe = regexp.MustCompile(`^(?:no )?(?:(?:no )?(?:era|es) eso|eso no(?: (?:era|es))?)(?: lo que (?:busco|buscaba|pregunte|preguntaba|necesito|necesitaba|queria))?$|` +
	`^no (?:era|es) lo que (?:busco|buscaba|pregunte|preguntaba|necesito|necesitaba|queria)$|^(?:no )?otra cosa$|` +
	`^(?:no )?(?:that s )?not (?:that|it|what i (?:meant|asked|need|wanted))$|^wrong (?:one|answer)$`)

// bareChoiceRe is a message that only picks an option by its number: "2", "la 1", "opcion 3".
var bareChoiceRe = regexp.MustCompile(`^(?:(?:el|la|opcion|numero|nro|n|num)\s*)?\d{1,2}$`)

// offerAgain offers the options of the state again, numbered as before (clarify), for the
// aspect; the misses in a row stay as the state has them.
func (e *Engine) offerAgain(st State, aspect string, english bool) (Reply, State) {
	var again []retrieval.Result
	for _, slug := range st.Options {
		if f, ok := e.r.Ficha(slug); ok {
			again = append(again, retrieval.Result{Ficha: f})
		}
	}
	r, next := e.clarify(st, again, aspect, english)
	next.Misses = st.Misses
	return r, next
}

// tentative answers the likeliest ficha and offers the next ones, numbered, in case the
// citizen meant one of them.
func (e *Engine) tentative(tc turnCtx, st State, res []retrieval.Result, aspect, channel string, english bool) (Reply, State) {
	r, st := e.answer(tc, st, res[0].Ficha.Slug, aspect, channel, english, res)
	for _, x := range res[1:min(len(res), unsureOptions)] {
		r.Options = append(r.Options, Option{N: len(r.Options) + 1, Slug: x.Ficha.Slug, Title: x.Ficha.Title})
		st.Options = append(st.Options, x.Ficha.Slug)
	}
	if len(r.Options) > 0 {
		r.Text += "\n\n" + composeOthers(r.Options, english)
	}
	return r, st
}

// choose reads the citizen's pick among offered options: a number, or words that match one
// option clearly better than the others.
func (e *Engine) choose(ctx context.Context, options []string, text, norm string) (string, bool) {
	// "otro bono" among bonos asks for more of them, not for one of these.
	if anotherRe.MatchString(norm) {
		return "", false
	}
	w := strings.Fields(norm)
	if len(w) > 0 && len(w) <= 3 {
		for _, x := range w {
			x = strings.TrimPrefix(x, "opcion")
			if n, err := strconv.Atoi(x); err == nil && n >= 1 && n <= len(options) {
				return options[n-1], true
			}
		}
	}
	for i, ord := range []string{"primer", "segund", "tercer", "cuart"} {
		if i < len(options) && len(w) <= 3 && strings.HasPrefix(norm, ord) || (i < len(options) && len(w) <= 3 && strings.Contains(norm, " "+ord)) {
			return options[i], true
		}
	}
	text = strings.TrimSpace(cueWordsRe.ReplaceAllString(norm, " "))
	found := e.r.Find(ctx, retrieval.Query{Text: text, Only: options}, 2)
	if len(found.Results) == 0 {
		return "", false
	}
	best := found.Results[0]
	if len(found.Results) > 1 && found.Results[1].Score >= 0.8*best.Score {
		return "", false
	}
	// Words that fit another ficha much better than any option are a new question ("y el
	// pasaporte?" while choosing between cédulas), not a choice.
	if all := e.r.Find(ctx, retrieval.Query{Text: text}, 1); len(all.Results) > 0 && best.Score < 0.8*all.Results[0].Score {
		return "", false
	}
	return best.Ficha.Slug, true
}

// turnCtx is what answer needs of the turn beyond the state.
type turnCtx struct {
	ctx      context.Context
	text     string // the citizen's words
	injected bool   // the message also held words addressed to the assistant, now removed
	// extractive: the answer is the ficha's own text; an emergency never reaches a language
	// model.
	extractive bool
	// outside, when set, receives the scope model's reading of the message (Found.Outside).
	outside *float64
	// evident: the danger readings see an emergency with the evidence an answered question
	// needs to keep its lines (dangerPlain, dangerEven).
	evident bool
}

// read keeps what the turn needs of a search beyond its results.
func (tc turnCtx) read(found retrieval.Found) {
	if tc.outside != nil {
		*tc.outside = found.Outside
	}
}

func (e *Engine) answer(tc turnCtx, st State, slug, aspect, channel string, english bool, res []retrieval.Result) (Reply, State) {
	f, ok := e.r.Ficha(slug)
	if !ok {
		return e.miss(st, english)
	}
	aspect = orGeneral(aspect)
	r := Reply{Action: ActionAnswer, Aspect: aspect, Ficha: slug, English: english,
		Text: composeAnswer(f, aspect, english, e.media[channel].Budget, e.now())}
	if e.writer != nil && !tc.extractive {
		text, reason := e.write(tc.ctx, f, aspect, tc.text, st.Asked, english, channel, res, r.Text)
		r.Text, r.Written = text, "model"
		if reason != "" {
			r.Written = "fallback:" + reason
		}
		// The last questions give the model the conversation's thread (kept only with one).
		st.Asked = append(st.Asked, tc.text)
		if len(st.Asked) > 3 {
			st.Asked = st.Asked[len(st.Asked)-3:]
		}
	}
	score := 0.0
	r.coverage = 1
	for _, x := range res {
		if x.Ficha.Slug == slug {
			score, r.coverage, r.guessed = x.Score, x.Coverage, x.Prob < probOutside
		}
	}
	r.Fichas = append(r.Fichas, hit(f, score))
	for _, x := range res {
		if x.Ficha.Slug != slug {
			r.Fichas = append(r.Fichas, hit(x.Ficha, x.Score))
		}
	}
	for _, a := range []string{retrieval.AspectRequisitos, retrieval.AspectMonto, retrieval.AspectComo,
		retrieval.AspectDocumentos, retrieval.AspectFechas, retrieval.AspectCosto} {
		if a != aspect && len(f.Sections.Items(a)) > 0 {
			r.Aspects = append(r.Aspects, a)
		}
	}
	st.Slug, st.Aspect, st.Misses, st.Options = slug, aspect, 0, nil
	return r, st
}

func hit(f *retrieval.Ficha, score float64) Hit {
	return Hit{Slug: f.Slug, Title: f.Title, URL: f.URL, Score: score}
}

func orGeneral(a string) string {
	if a == "" {
		return retrieval.AspectGeneral
	}
	return a
}

// Ficha returns the hit for a slug of the catalogue (for a reply replayed from storage).
func (e *Engine) Ficha(slug string) (Hit, bool) {
	f, ok := e.r.Ficha(slug)
	if !ok {
		return Hit{}, false
	}
	return hit(f, 0), true
}

// IsEmergency reports whether the text speaks of an emergency: the channels ask it before
// keeping the engine silent while a person holds the conversation, so that the emergency
// lines still go first.
func (e *Engine) IsEmergency(text string) bool {
	_, sure, _, _ := e.emergency(e.r.Normalize(text), false)
	return sure
}

// IsOptOut reports whether the text asks for no more messages: a channel that limits a
// sender's rate still lets it through, so that the wish is always heard.
func (e *Engine) IsOptOut(text string) bool {
	norm := e.r.Normalize(withoutPersonalData(text))
	return optoutRe.MatchString(norm) || optoutPhraseRe.MatchString(norm)
}

// Canonical returns the slug of the ficha a slug names: itself, or the ficha it was merged into
// (retrieval.Ficha.Aliases); an unknown slug is returned as it is.
func (e *Engine) Canonical(slug string) string {
	if f, ok := e.r.Ficha(slug); ok {
		return f.Slug
	}
	return slug
}

// TopicOf returns a ficha's main topic, or "".
func (e *Engine) TopicOf(slug string) string {
	f, ok := e.r.Ficha(slug)
	if !ok || len(f.Topics) == 0 {
		return ""
	}
	return f.Topics[0]
}
