package pidproxy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// atExecFn is the auxiliary-vector entry holding the address of the file
// name the kernel was given by execve(2).
const atExecFn = 31

// invokedAs returns the path the kernel ran us as. Debian's pidproxy is a
// Python script, so its name in the usage text and in tracebacks is the file
// name its caller handed to execve (the kernel passes that, not argv[0], to
// the interpreter): "/usr/bin/pidproxy" when a shell found it on PATH,
// "./pidproxy" when run as such. argv[0] stands in when the auxiliary vector
// cannot be read.
func invokedAs(args []string) string {
	if name, err := execFn(); err == nil {
		return name
	}
	if len(args) == 0 {
		return ""
	}
	if strings.Contains(args[0], "/") {
		return args[0]
	}
	if p, err := exec.LookPath(args[0]); err == nil {
		return p
	}
	return args[0]
}

// execFn reads AT_EXECFN's string out of our own memory through /proc.
func execFn() (string, error) {
	addr, err := auxValue(atExecFn)
	if err != nil {
		return "", err
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return "", fmt.Errorf("open /proc/self/mem: %w", err)
	}
	defer mem.Close()
	return readCString(mem, int64(addr))
}

// auxValue returns the value of auxiliary-vector entry typ.
func auxValue(typ uint64) (uint64, error) {
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, fmt.Errorf("read /proc/self/auxv: %w", err)
	}
	word := strconv.IntSize / 8
	for i := 0; i+2*word <= len(auxv); i += 2 * word {
		if readWord(auxv[i:], word) == typ {
			return readWord(auxv[i+word:], word), nil
		}
	}
	return 0, fmt.Errorf("auxiliary vector entry %d: %w", typ, os.ErrNotExist)
}

func readWord(b []byte, size int) uint64 {
	if size == 4 {
		return uint64(binary.NativeEndian.Uint32(b))
	}
	return binary.NativeEndian.Uint64(b)
}

// readCString reads a NUL-terminated string at addr, a page at a time so
// that no read crosses into an unmapped page past the end of the stack.
func readCString(mem *os.File, addr int64) (string, error) {
	page := int64(os.Getpagesize())
	var out []byte
	for len(out) <= unix.PathMax {
		buf := make([]byte, page-addr%page)
		n, err := mem.ReadAt(buf, addr)
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		if err != nil {
			return "", fmt.Errorf("read exec file name at %#x: %w", addr, err)
		}
		out, addr = append(out, buf[:n]...), addr+int64(n)
	}
	return "", fmt.Errorf("exec file name at %#x: longer than %d bytes", addr, unix.PathMax)
}

// programName is sys.argv[0] as the Debian entry script rewrites it:
// re.sub(r"(-script\.pyw?|\.exe)?$", "", sys.argv[0]). Like Python's "$",
// the suffix may also sit just before a final newline.
func programName(script string) string {
	body, nl := strings.CutSuffix(script, "\n")
	for _, suffix := range []string{"-script.pyw", "-script.py", ".exe"} {
		if s, ok := strings.CutSuffix(body, suffix); ok {
			body = s
			break
		}
	}
	if nl {
		return body + "\n"
	}
	return body
}

// scriptFile is the file name Python 3.11 shows for the script in
// tracebacks: a relative path is prefixed with the working directory and a
// slash, without normalising; it stays relative when that is unknown.
func scriptFile(script string) string {
	if strings.HasPrefix(script, "/") {
		return script
	}
	cwd, err := unix.Getwd()
	if err != nil {
		return script
	}
	return cwd + "/" + script
}

// abspath is Python's os.path.abspath: relative paths are joined to the
// working directory as getcwd(2) reports it (not $PWD), then normalised.
func abspath(path string) (string, error) {
	if strings.HasPrefix(path, "/") {
		return normpath(path), nil
	}
	cwd, err := unix.Getwd()
	if err != nil {
		return "", fmt.Errorf("getcwd for %q: %w", path, err)
	}
	if !strings.HasSuffix(cwd, "/") {
		cwd += "/"
	}
	return normpath(cwd + path), nil
}

// normpath is posixpath.normpath: "." and empty components go, ".." eats its
// parent, and exactly two leading slashes are kept (POSIX leaves their
// meaning to the implementation), unlike filepath.Clean.
func normpath(path string) string {
	if path == "" {
		return "."
	}
	lead := ""
	if strings.HasPrefix(path, "/") {
		lead = "/"
		if strings.HasPrefix(path, "//") && !strings.HasPrefix(path, "///") {
			lead = "//"
		}
	}
	var comps []string
	for _, c := range strings.Split(path, "/") {
		switch {
		case c == "" || c == ".":
		case c != "..", lead == "" && len(comps) == 0, len(comps) > 0 && comps[len(comps)-1] == "..":
			comps = append(comps, c)
		case len(comps) > 0:
			comps = comps[:len(comps)-1]
		}
	}
	if out := lead + strings.Join(comps, "/"); out != "" {
		return out
	}
	return "."
}
