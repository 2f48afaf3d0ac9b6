package logfile

import "bytes"

// ansiTerminators end an escape sequence in the original's stripEscapes.
const ansiTerminators = "HfABCDRsuJKhlpm"

// StripANSI removes ESC[ … up to and including the first of
// HfABCDRsuJKhlpm, like the original's stripEscapes: an unterminated sequence
// swallows the rest of the input, and nothing is carried over between calls
// (the original strips each chunk read from the pipe on its own).
func StripANSI(s []byte) []byte {
	i := bytes.Index(s, []byte("\x1b["))
	if i < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i >= 0 {
		out = append(out, s[:i]...)
		// The original starts testing for a terminator at the '[' itself,
		// which is never one, so the search can begin after it.
		t := bytes.IndexAny(s[i+2:], ansiTerminators)
		if t < 0 {
			return out
		}
		s = s[i+2+t+1:]
		i = bytes.Index(s, []byte("\x1b["))
	}
	return append(out, s...)
}
