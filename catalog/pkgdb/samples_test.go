package pkgdb

// Samples in the exact formats the package managers write, trimmed to a few
// packages. Shared by the parser tests and the fuzz seed corpora.

const dpkgStatus = `Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 340
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Pre-Depends: awk
Breaks: debian-security-support (<< 2019.04.25), initscripts (<< 2.88dsf-13.3), sendfile (<< 2.1b.20080616-5.2~)
Conffiles:
 /etc/debian_version 0ab1ba8ea3e1e8ab0cac9e5a8e4bcc5e
 /etc/dpkg/origins/debian c47b6815f67ad1aeccb0d4529bd0b990
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system, and
 several important miscellaneous files, such as /etc/debian_version,
 /etc/host.conf, /etc/issue, /etc/motd, /etc/profile, and others,
 and the text of several common licenses in use on Debian systems.

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12986
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Depends: libgcc-s1
Recommends: libidn2-0 (>= 2.0.5~)
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system. This package includes shared versions of the standard C library
 and the standard math library, as well as many others.
 .
 This is the same library as on the build system.
Homepage: https://www.gnu.org/software/libc/libc.html

Package: python3.11-minimal
Status: install ok installed
Priority: optional
Section: python
Installed-Size: 6116
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Multi-Arch: allowed
Source: python3.11 (3.11.2-6)
Version: 3.11.2-6+deb12u1
Depends: libpython3.11-minimal (= 3.11.2-6+deb12u1), libexpat1 (>= 2.1~beta3), zlib1g (>= 1:1.2.0)
Description: Minimal subset of the Python language (version 3.11)
 This package contains the interpreter and some essential modules.  It can
 be used in the boot process for some basic tasks.

Package: vim-tiny
Status: deinstall ok config-files
Priority: important
Section: editors
Installed-Size: 1759
Maintainer: Debian Vim Maintainers <team+vim@tracker.debian.org>
Architecture: amd64
Source: vim
Version: 2:9.0.1378-2
Config-Version: 2:9.0.1378-2
Description: Vi IMproved - enhanced vi editor - compact version
 Vim is an almost compatible version of the UNIX editor Vi.
`

const distrolessStatusD = `Package: tzdata
Version: 2024a-0+deb12u1
Architecture: all
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Installed-Size: 2817
Depends: debconf (>= 0.5) | debconf-2.0
Provides: tzdata-bookworm
Section: localization
Priority: required
Multi-Arch: foreign
Homepage: https://www.iana.org/time-zones
Description: time zone and daylight-saving time data
 This package contains data required for the implementation of
 standard local time for many representative locations around the
 globe.
`

const apkInstalled = `C:Q1qGvRg0bHqVfrAN5Tbu2eqbB6uyo=
P:musl
V:1.2.4-r2
A:x86_64
S:407703
I:663552
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1697131406
c:ae02fb32e2ddd2fe8fe24d3a1ac4d26f6e1a7cae
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1a/7zdIpWIEJw4IxgfSyFHxZMh5U=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

C:Q1Zo1LHDKaXNzGTgUrPJsRxgzB/vY=
P:python3
V:3.11.8-r0
A:x86_64
S:17934
I:73728
T:A high-level scripting language
U:https://www.python.org/
L:PSF-2.0
o:python3
m:Natanael Copa <ncopa@alpinelinux.org>
t:1707831390
c:0e78ff0ba34ba0da2b0a48ea1fc7ab24a8c3fd54
D:so:libc.musl-x86_64.so.1 so:libpython3.11.so.1.0
p:cmd:python3.11=3.11.8-r0 py3-bytecode=3.11.8-r0
r:py3-cached-property
F:usr
F:usr/bin
R:python3
a:0:0:777
Z:Q1DGpSYMZ7JjRp8y3Xs7qbR8bhl1M=
`

const pythonMetadata = `Metadata-Version: 2.1
Name: Scikit_Learn
Version: 1.4.1.post1
Summary: A set of python modules for machine learning and data mining
Home-page: https://scikit-learn.org
Maintainer-email: scikit-learn developers <scikit-learn@python.org>
License: new BSD
Classifier: Intended Audience :: Science/Research
Classifier: Programming Language :: Python :: 3.11
Requires-Python: >=3.9
Requires-Dist: numpy<2.0,>=1.19.5
Requires-Dist: scipy>=1.6.0
Provides-Extra: benchmark
Description-Content-Type: text/x-rst

.. -*- mode: rst -*-

Name: not-the-name
Version: 0.0
scikit-learn is a Python module for machine learning built on top of SciPy.
`

const pkgInfo = `Metadata-Version: 1.1
Name: python-apt
Version: 2.6.0
Summary: Python bindings for APT
Home-page: UNKNOWN
Author: APT Development Team
Author-email: deity@lists.debian.org
License: GNU GPL
Description: UNKNOWN
Platform: posix
`

const condaMeta = `{
  "build": "hab00c5b_0_cpython",
  "build_number": 0,
  "channel": "https://conda.anaconda.org/conda-forge/linux-64",
  "constrains": ["python_abi 3.11.* *_cp311"],
  "depends": ["bzip2 >=1.0.8,<2.0a0", "ld_impl_linux-64 >=2.36.1", "libgcc-ng >=12"],
  "extracted_package_dir": "/opt/conda/pkgs/python-3.11.7-hab00c5b_0_cpython",
  "features": "",
  "files": ["bin/2to3", "bin/python3.11", "lib/python3.11/os.py"],
  "fn": "python-3.11.7-hab00c5b_0_cpython.conda",
  "license": "Python-2.0",
  "link": {"source": "/opt/conda/pkgs/python-3.11.7-hab00c5b_0_cpython", "type": 1},
  "md5": "bf281a975393266ab95734a8cfd532ec",
  "name": "python",
  "package_tarball_full_path": "/opt/conda/pkgs/python-3.11.7-hab00c5b_0_cpython.conda",
  "paths_data": {"paths": [{"_path": "bin/2to3", "path_type": "hardlink", "sha256": "6b2d6b9c", "size_in_bytes": 110}], "paths_version": 1},
  "requested_spec": "python=3.11",
  "sha256": "1dfac2e7e4e2bd3a2b6d1ef6d9ff8fa57b4a2cc1a2a4f8a0f5c3b4b9b2c8ac10",
  "size": 30830615,
  "subdir": "linux-64",
  "timestamp": 1703342231,
  "url": "https://conda.anaconda.org/conda-forge/linux-64/python-3.11.7-hab00c5b_0_cpython.conda",
  "version": "3.11.7"
}
`

const rDescription = `Package: ggplot2
Version: 3.4.4
Title: Create Elegant Data Visualisations Using the Grammar of Graphics
Authors@R: 
    c(person("Hadley", "Wickham", , "hadley@posit.co", role = "aut",
             comment = c(ORCID = "0000-0003-4757-117X")),
      person("Posit, PBC", role = c("cph", "fnd")))
Description: A system for 'declaratively' creating graphics, based on "The
    Grammar of Graphics". You provide the data, tell 'ggplot2' how to map
    variables to aesthetics, what graphical primitives to use, and it takes
    care of the details.
License: MIT + file LICENSE
Depends: R (>= 3.3)
Imports: cli, glue, grDevices, grid, gtable (>= 0.1.1), isoband
NeedsCompilation: no
Repository: CRAN
Date/Publication: 2023-10-12 22:00:02 UTC
Built: R 4.3.1; ; 2023-10-20 10:01:17 UTC; unix
`

const rBaseDescription = `Package: base
Version: 4.3.2
Priority: base
Title: The R Base Package
Author: R Core Team and contributors worldwide
Maintainer: R Core Team <do-use-Contact-address@r-project.org>
Contact: R-help mailing list <r-help@r-project.org>
Description: Base R functions.
License: Part of R 4.3.2
Built: R 4.3.2; ; 2023-11-01 00:00:00 UTC; unix
`

const osReleaseUbuntu = `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
UBUNTU_CODENAME=jammy
`

const osReleaseRocky = `NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
ANSI_COLOR="0;32"
`
