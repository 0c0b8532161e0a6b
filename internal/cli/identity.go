package cli

import (
	"flag"
	"log/slog"

	"github.com/echospec/echo/internal/identity"
)

// Identity is a server's -identity flag.
type Identity struct{ name *string }

// AddIdentityFlag adds -identity to a server's flags.
func AddIdentityFlag(fs *flag.FlagSet) Identity {
	return Identity{fs.String("identity", "", "answer an identity probe with this `name` (1 to 98 printable ASCII characters, such as the pod's name) instead of echoing it, so that a client behind a balancer learns which server answered; empty: probes are echoed like any data")}
}

// Name checks the flag's value and returns it: a name no answer can carry
// is a usage error.
func (i Identity) Name(fs *flag.FlagSet) (string, error) {
	if *i.name == "" {
		return "", nil
	}
	if err := identity.CheckName(*i.name); err != nil {
		return "", Usagef(fs, "invalid value %q for flag -identity: %v", *i.name, err)
	}
	return *i.name, nil
}

// Logger returns logger with the identity on every line, if there is one.
func (i Identity) Logger(logger *slog.Logger) *slog.Logger {
	if *i.name == "" {
		return logger
	}
	return logger.With("identity", *i.name)
}
