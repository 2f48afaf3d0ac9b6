package sdexport

import (
	"fmt"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// unitNameMax is systemd's UNIT_NAME_MAX less its terminating NUL.
const unitNameMax = 255

// escapeName is systemd-escape's escaping of one name, except that '-'
// stays (it is valid in a unit name and common in program names): bytes
// outside [A-Za-z0-9_.-] become \xNN, as does a leading '.'. Escaping is
// injective, so distinct names stay distinct.
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '.' && i > 0
		if ok {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// serviceName is the unit of one process: the name supervisorctl shows
// (NAME, or GROUP:NAME when they differ), ':' written as '-'.
func serviceName(prefix string, p *config.Process) string {
	if p.Group == p.Name {
		return escapeName(prefix+p.Name) + ".service"
	}
	return escapeName(prefix+p.Group) + "-" + escapeName(p.Name) + ".service"
}

// targetName is the unit of one group.
func targetName(prefix, group string) string { return escapeName(prefix+group) + ".target" }

// claim records that name is used by what; a second user is an error, so
// that two processes never silently share a unit file.
func claim(used map[string]string, name, what string) error {
	if len(name) > unitNameMax {
		return fmt.Errorf("unit name %s of %s is longer than %d characters", name, what, unitNameMax)
	}
	if prev, ok := used[name]; ok {
		return fmt.Errorf("unit name %s would be used by both %s and %s; rename one of them", name, prev, what)
	}
	used[name] = what
	return nil
}
