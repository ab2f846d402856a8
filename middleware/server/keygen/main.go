// Command keygen mints a Hearth API key without the hearth binary:
//
//	go run github.com/hearth-ai/hearth/middleware/server/keygen -id game-eu -role client -tenant acme
//
// It prints the key (hand it to its user once; it is stored nowhere) and
// the line to append under "keys:" in the file given to hearth serve
// -auth-keys, which holds only the key's SHA-256.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hearth-ai/hearth/middleware/server"
)

func main() {
	id := flag.String("id", "", "key id, shown in logs and the audit log (required)")
	role := flag.String("role", string(server.RoleClient), "client or admin")
	tenant := flag.String("tenant", "", "tenant (studio or game) of the key (required; * = all tenants, admin keys only)")
	flag.Parse()
	key, rec, err := server.NewAPIKey(*id, server.Role(*role), *tenant)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keygen:", err)
		os.Exit(2)
	}
	fmt.Printf("key: %s\n", key)
	fmt.Printf("keys file entry:\n  - {id: %q, role: %q, tenant: %q, sha256: %q}\n", rec.ID, rec.Role, rec.Tenant, rec.SHA256)
}
