// Command htpasswd prints an htpasswd line (bcrypt) for a user, so that
// scripts/bench.sh can run Oyster with auth on without Apache's tools:
//
//	HTPASSWD_PASSWORD=secret htpasswd -user alice >> htpasswd
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	user := flag.String("user", "", "user name (required); the password comes from $HTPASSWD_PASSWORD")
	flag.Parse()
	password := os.Getenv("HTPASSWD_PASSWORD")
	if *user == "" || password == "" {
		log.Fatal("htpasswd: -user and $HTPASSWD_PASSWORD are required")
	}
	// Cost 5 is what Apache's `htpasswd -B` writes by default, and so what
	// the files docs/auth.md tells sites to make hold: a login costs the
	// realm what it costs them.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), 5)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s:%s\n", *user, hash)
}
