package rpc

import (
	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// methodRoles is the least role that may call each method (EXTENSIONS.md
// §7): readonly reads, operator starts, stops, signals, writes to stdin and
// clears process logs, admin does everything else. The table is the one
// place XML-RPC roles are declared: add gives every method its entry, and
// a method registered without one needs a role above admin, which no caller
// has (TestEveryMethodHasARole fails first).
//
// Every call that needs more than readonly changes state, and is the audit
// line's call (pkg/access).
var methodRoles = map[string]config.Role{
	"system.listMethods":     config.RoleReadonly,
	"system.methodHelp":      config.RoleReadonly,
	"system.methodSignature": config.RoleReadonly,
	// Each call inside is checked (and audited) on its own.
	"system.multicall": config.RoleReadonly,

	"supervisor.getAPIVersion":        config.RoleReadonly,
	"supervisor.getVersion":           config.RoleReadonly,
	"supervisor.getSupervisorVersion": config.RoleReadonly,
	"supervisor.getIdentification":    config.RoleReadonly,
	"supervisor.getState":             config.RoleReadonly,
	"supervisor.getPID":               config.RoleReadonly,
	"supervisor.readLog":              config.RoleReadonly,
	"supervisor.readMainLog":          config.RoleReadonly,
	"supervisor.getAllConfigInfo":     config.RoleReadonly,
	"supervisor.getProcessInfo":       config.RoleReadonly,
	"supervisor.getAllProcessInfo":    config.RoleReadonly,
	"supervisor.readProcessStdoutLog": config.RoleReadonly,
	"supervisor.readProcessLog":       config.RoleReadonly,
	"supervisor.readProcessStderrLog": config.RoleReadonly,
	"supervisor.tailProcessStdoutLog": config.RoleReadonly,
	"supervisor.tailProcessLog":       config.RoleReadonly,
	"supervisor.tailProcessStderrLog": config.RoleReadonly,

	"supervisor.startProcess":        config.RoleOperator,
	"supervisor.startProcessGroup":   config.RoleOperator,
	"supervisor.startAllProcesses":   config.RoleOperator,
	"supervisor.stopProcess":         config.RoleOperator,
	"supervisor.stopProcessGroup":    config.RoleOperator,
	"supervisor.stopAllProcesses":    config.RoleOperator,
	"supervisor.signalProcess":       config.RoleOperator,
	"supervisor.signalProcessGroup":  config.RoleOperator,
	"supervisor.signalAllProcesses":  config.RoleOperator,
	"supervisor.sendProcessStdin":    config.RoleOperator,
	"supervisor.clearProcessLogs":    config.RoleOperator,
	"supervisor.clearProcessLog":     config.RoleOperator,
	"supervisor.clearAllProcessLogs": config.RoleOperator,

	// The main log holds the audit trail: only an admin empties it.
	"supervisor.clearLog":            config.RoleAdmin,
	"supervisor.shutdown":            config.RoleAdmin,
	"supervisor.restart":             config.RoleAdmin,
	"supervisor.reloadConfig":        config.RoleAdmin,
	"supervisor.addProcessGroup":     config.RoleAdmin,
	"supervisor.removeProcessGroup":  config.RoleAdmin,
	"supervisor.sendRemoteCommEvent": config.RoleAdmin,

	"gosupervisor.getVersion":             config.RoleReadonly,
	"gosupervisor.getProcessHealth":       config.RoleReadonly,
	"gosupervisor.getProcessDependencies": config.RoleReadonly,
	"gosupervisor.getReadiness":           config.RoleReadonly,
	"gosupervisor.getProcessHistory":      config.RoleReadonly,
}

// undeclared is the role of a method missing from methodRoles: above
// admin, so that nobody calls it by mistake.
const undeclared = config.RoleAdmin + 1

// roleOf is the declared role of name.
func roleOf(name string) config.Role {
	if r, ok := methodRoles[name]; ok {
		return r
	}
	return undeclared
}

// MethodRole is the least role that may call name, and whether the
// method has a declared role (for tests and documentation).
func MethodRole(name string) (config.Role, bool) {
	r, ok := methodRoles[name]
	return r, ok
}

// AllMethods lists every registered method, the gosupervisor.* ones
// included whatever Options.ListExtensions says.
func (s *Server) AllMethods() []string {
	names := make([]string, 0, len(s.methods))
	for n := range s.methods {
		names = append(names, n)
	}
	return names
}
