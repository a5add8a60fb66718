package pkgdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// rpm header tags the catalog reads (rpmtag.h).
const (
	rpmTagName      = 1000
	rpmTagVersion   = 1001
	rpmTagRelease   = 1002
	rpmTagEpoch     = 1003
	rpmTagArch      = 1022
	rpmTagSourceRPM = 1044
)

// rpm header data types (rpmtag.h).
const (
	rpmTypeInt32       = 4
	rpmTypeString      = 6
	rpmTypeStringArray = 8
	rpmTypeI18NString  = 9
)

// maxRPMHeaderEntries is rpm's own bound on index entries (hdrchkTags).
const maxRPMHeaderEntries = 0xffff

// parseRPMHeader reads name, epoch, version, release, arch and source RPM
// from an installed package's header blob, the value every rpmdb backend
// stores per package: big-endian entry count and data size, the index
// entries (tag, type, offset, count), then the data. Every offset is checked
// against the blob, which comes from an untrusted image.
func parseRPMHeader(blob []byte) (Package, error) {
	if len(blob) < 8 {
		return Package{}, errors.New("rpm header shorter than its preamble")
	}
	il, dl := binary.BigEndian.Uint32(blob), binary.BigEndian.Uint32(blob[4:])
	if il == 0 || il > maxRPMHeaderEntries || uint64(8)+uint64(il)*16+uint64(dl) > uint64(len(blob)) {
		return Package{}, fmt.Errorf("rpm header claims %d entries and %d data bytes in a %d byte blob", il, dl, len(blob))
	}
	index, data := blob[8:8+il*16], blob[8+il*16:8+il*16+dl]
	tags := map[uint32]string{}
	for i := uint32(0); i < il; i++ {
		e := index[i*16 : i*16+16]
		tag := binary.BigEndian.Uint32(e)
		if v, ok := rpmEntryValue(binary.BigEndian.Uint32(e[4:]), binary.BigEndian.Uint32(e[8:]), data); ok && isRPMTagWanted(tag) {
			tags[tag] = v
		}
	}
	return rpmPackage(tags)
}

func isRPMTagWanted(tag uint32) bool {
	return tag == rpmTagName || tag == rpmTagVersion || tag == rpmTagRelease ||
		tag == rpmTagEpoch || tag == rpmTagArch || tag == rpmTagSourceRPM
}

// rpmEntryValue decodes the first value of an entry as a string: the first
// string of string types, the decimal of an INT32.
func rpmEntryValue(typ, offset uint32, data []byte) (string, bool) {
	if uint64(offset) >= uint64(len(data)) {
		return "", false
	}
	switch typ {
	case rpmTypeString, rpmTypeStringArray, rpmTypeI18NString:
		s, _, ok := bytes.Cut(data[offset:], []byte{0})
		return string(s), ok
	case rpmTypeInt32:
		if uint64(offset)+4 > uint64(len(data)) {
			return "", false
		}
		return strconv.FormatUint(uint64(binary.BigEndian.Uint32(data[offset:])), 10), true
	}
	return "", false
}

// rpmPackage builds the package; the version is "[epoch:]version-release",
// the string rpm itself compares.
func rpmPackage(tags map[uint32]string) (Package, error) {
	name, version, release := tags[rpmTagName], tags[rpmTagVersion], tags[rpmTagRelease]
	if name == "" || version == "" {
		return Package{}, errors.New("rpm header without name and version")
	}
	if release != "" {
		version += "-" + release
	}
	if epoch := tags[rpmTagEpoch]; epoch != "" {
		version = epoch + ":" + version
	}
	return Package{Name: name, Version: version, Ecosystem: RPM, Arch: tags[rpmTagArch], Origin: tags[rpmTagSourceRPM]}, nil
}
