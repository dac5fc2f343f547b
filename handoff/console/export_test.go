package console

// CountComparisons makes every password comparison add one to *n (for the tests), and
// returns a function that puts the real one back.
func CountComparisons(n *int) func() {
	real := compareHash
	compareHash = func(h, p []byte) error { *n++; return real(h, p) }
	return func() { compareHash = real }
}

// DraftKey is the key the ficha search form of a handoff carries beside the draft.
var DraftKey = draftKey
