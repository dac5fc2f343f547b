package report

// StaleFichas is staleFichas, for the tests.
var StaleFichas = staleFichas
