package pkgdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrUnsupportedRPMDB marks a file that is not an rpm database this package
// can read, so that callers can tell it from a damaged one.
var ErrUnsupportedRPMDB = errors.New("unsupported rpm database format")

// ParseRPMDB reads an installed-package database of rpm: Berkeley DB
// "Packages" (RHEL/CentOS up to 8, Amazon Linux 2), SQLite "rpmdb.sqlite"
// (RHEL 9, Fedora 33+) or NDB "Packages.db" (SUSE). All need random
// access, so the stream is first copied to a temporary file, at most
// MaxDatabaseBytes, which is removed before returning. The readers are this package's own, bounds-checked and
// single-goroutine, because the database comes from an untrusted image: a
// corrupt page must give an error, never a panic, a hang or a leak.
// gpg-pubkey entries (imported signing keys, not software) are left out.
func ParseRPMDB(r io.Reader, source string) ([]Package, error) {
	f, size, err := spool(r, MaxDatabaseBytes)
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	blobs, err := rpmHeaderBlobs(f, size)
	var pkgs []Package
	var errs errorList
	errs.add(err)
	for _, b := range blobs {
		p, err := parseRPMHeader(b)
		switch {
		case err != nil:
			errs.add(err)
		case len(pkgs) == MaxPackagesPerFile:
			errs.add(ErrTooManyPackages)
			return pkgs, errs.err()
		case p.Name != "gpg-pubkey":
			p.Source = source
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, errs.err()
}

// spool copies r to a temporary file, failing with ErrTooLarge past max.
func spool(r io.Reader, max int64) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "oyster-rpmdb-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, limited(r, max))
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// rpmHeaderBlobs dispatches on the database's magic bytes.
func rpmHeaderBlobs(f io.ReaderAt, size int64) ([][]byte, error) {
	var head [16]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, fmt.Errorf("rpm database too short: %w", err)
	}
	switch {
	case bytes.Equal(head[:], []byte("SQLite format 3\x00")):
		return sqliteTableBlobs(f, size, "Packages")
	case binary.LittleEndian.Uint32(head[12:]) == bdbHashMagic:
		return bdbValues(f, size, binary.LittleEndian)
	case binary.BigEndian.Uint32(head[12:]) == bdbHashMagic:
		return bdbValues(f, size, binary.BigEndian)
	case bytes.Equal(head[:4], []byte("RpmP")):
		return ndbValues(f, size)
	}
	return nil, fmt.Errorf("%w: unknown magic % x", ErrUnsupportedRPMDB, head[:])
}
