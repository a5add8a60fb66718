package testlayers

import (
	"fmt"
	"strings"
)

// DpkgStatus is a var/lib/dpkg/status file listing pkgs ("name=version"),
// each stanza shaped as dpkg writes it, multi-line description included.
func DpkgStatus(pkgs ...string) string {
	var b strings.Builder
	for _, p := range pkgs {
		name, version, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: %s\n"+
			"Description: %s for tests\n multi-line description\n .\n second paragraph\n\n", name, version, name)
	}
	return b.String()
}

// ManyDpkgPackages is n packages named pkg0… with distinct versions, for
// DpkgStatus.
func ManyDpkgPackages(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("pkg%d=1.%d-1", i, i)
	}
	return out
}

// DebianOSRelease is etc/os-release of Debian 12.
const DebianOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`

// DistInfo is the METADATA of an installed Python distribution, at its
// path under usr/lib/python3/dist-packages.
func DistInfo(name, version string) Entry {
	return File(fmt.Sprintf("usr/lib/python3/dist-packages/%s-%s.dist-info/METADATA", name, version),
		fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: test package\n\nLong description.\n", name, version))
}

// CondaMeta is the conda-meta record of an installed conda package.
func CondaMeta(name, version string) Entry {
	return File(fmt.Sprintf("opt/conda/conda-meta/%s-%s-h12345_0.json", name, version),
		fmt.Sprintf(`{"name":%q,"version":%q,"build":"h12345_0","channel":"https://conda.anaconda.org/conda-forge"}`, name, version))
}

// RDescription is the DESCRIPTION of an installed R package in the site
// library.
func RDescription(name, version string) Entry {
	return File(fmt.Sprintf("usr/local/lib/R/site-library/%s/DESCRIPTION", name),
		fmt.Sprintf("Package: %s\nVersion: %s\nTitle: Test\nDepends: R (>= 4.0)\n", name, version))
}
