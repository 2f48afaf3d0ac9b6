package pidproxy

import (
	"math"
	"strconv"
	"strings"
)

// Python 3.11's start-up messages on stderr.
const (
	coercionWarning = "Python detected LC_CTYPE=C: LC_CTYPE coerced to %s (set another locale or PYTHONCOERCECLOCALE=0 to disable this locale coercion behavior).\n"
	legacyWarning   = "Python runtime initialized with LC_CTYPE=C (a locale with default ASCII encoding), which may cause Unicode compatibility problems. Using C.UTF-8, C.utf8, or UTF-8 (if available) as alternative Unicode-compatible locales is recommended.\n"
	maxDigitsFatal  = "Fatal Python error: config_init_int_max_str_digits: PYTHONINTMAXSTRDIGITS: invalid limit; must be >= 640 or 0 for unlimited.\nPython runtime state: preinitialized\n\n"
)

// pyEnv is what the interpreter's start-up does with the environment before
// pidproxy.py runs, as far as it shows: the environment the command gets
// (PEP 538 locale coercion adds LC_CTYPE=C.UTF-8 to it), what it prints on
// stderr, and the knobs that change pidproxy's behaviour.
type pyEnv struct {
	env        []string // environ as the spawned command receives it
	early      string   // stderr text printed before initialisation ends
	fatal      bool     // initialisation fails after early: exit status 1
	late       string   // stderr text printed once initialised
	unbuffered bool     // PYTHONUNBUFFERED
	maxDigits  int      // sys.get_int_max_str_digits()
}

// startPython runs the relevant part of Python 3.11's initialisation.
func startPython(environ []string) pyEnv {
	pe := pyEnv{env: environ, maxDigits: defaultMaxDigits}
	mode := getenv(environ, "PYTHONCOERCECLOCALE")
	warn := mode == "warn"
	if mode != "0" && getenv(environ, "LC_ALL") == "" && legacyCtype(environ) {
		if target := coercionTarget(environ); target != "" {
			pe.env = setenv(environ, "LC_CTYPE", target)
			if warn {
				pe.early = strings.Replace(coercionWarning, "%s", target, 1)
			}
		}
	}
	if v := getenv(environ, "PYTHONINTMAXSTRDIGITS"); v != "" {
		n, ok := maxDigitsValue(v)
		if !ok {
			pe.early, pe.fatal = pe.early+maxDigitsFatal, true
			return pe
		}
		pe.maxDigits = n
	}
	if warn && legacyCtype(pe.env) {
		pe.late = legacyWarning
	}
	pe.unbuffered = envFlag(getenv(environ, "PYTHONUNBUFFERED")) > 0
	return pe
}

// envFlag is CPython's _Py_get_env_flag: unset is 0, a non-negative C int
// is itself ("0" turns the flag off), anything else counts as 1.
func envFlag(v string) int64 {
	if v == "" {
		return 0
	}
	n, ok := cInt(v)
	if !ok || n < 0 {
		return 1
	}
	return n
}

// cInt is CPython's _Py_str_to_int: strtol in base 10 over the whole
// string, into a C int.
func cInt(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimLeft(v, " \t\n\v\f\r"), 10, 64)
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return n, true
}

// maxDigitsValue parses PYTHONINTMAXSTRDIGITS and checks its range.
func maxDigitsValue(v string) (int, bool) {
	n, ok := cInt(v)
	if !ok || n < 0 || (n > 0 && n < 640) {
		return 0, false
	}
	return int(n), true
}

// coercionTarget is the first of Python's target locales glibc can load.
func coercionTarget(environ []string) string {
	for _, target := range []string{"C.UTF-8", "C.utf8", "UTF-8"} {
		if localeAvailable(target, environ) {
			return target
		}
	}
	return ""
}

// legacyCtype reports whether setlocale(LC_CTYPE, "") leaves the C locale:
// nothing set, C or POSIX asked for, or a locale glibc cannot load.
func legacyCtype(environ []string) bool {
	name := ""
	for _, key := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if name = getenv(environ, key); name != "" {
			break
		}
	}
	if name == "" || name == "C" || name == "POSIX" {
		return true
	}
	return !localeAvailable(name, environ)
}

// getenv is getenv(3) on environ: the first entry wins; "" means unset or
// empty, which every caller here treats alike.
func getenv(environ []string, key string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// setenv is setenv(3) with overwrite: the first entry for key is replaced
// where it stands, or the pair goes at the end.
func setenv(environ []string, key, value string) []string {
	out := append([]string(nil), environ...)
	for i, kv := range out {
		if strings.HasPrefix(kv, key+"=") {
			out[i] = key + "=" + value
			return out
		}
	}
	return append(out, key+"="+value)
}
