package scan

// Genuine-format files for the layer tests, trimmed to a few packages.

const dpkgBase = `Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 340
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Version: 12.4+deb12u5
Conffiles:
 /etc/debian_version 0ab1ba8ea3e1e8ab0cac9e5a8e4bcc5e
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system, and
 several important miscellaneous files, such as /etc/debian_version,
 /etc/host.conf, /etc/issue, /etc/motd, /etc/profile, and others.

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
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
 .
 This is the same library as on the build system.

Package: python3.11-minimal
Status: install ok installed
Priority: optional
Section: python
Installed-Size: 6116
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Source: python3.11 (3.11.2-6)
Version: 3.11.2-6+deb12u1
Description: Minimal subset of the Python language (version 3.11)
 This package contains the interpreter and some essential modules.

Package: vim-tiny
Status: deinstall ok config-files
Priority: important
Section: editors
Architecture: amd64
Source: vim
Version: 2:9.0.1378-2
Config-Version: 2:9.0.1378-2
Description: Vi IMproved - enhanced vi editor - compact version
 Vim is an almost compatible version of the UNIX editor Vi.
`

// dpkgUpper is the status file after `apt-get install r-base-core` and
// `apt-get purge python3.11-minimal` in an upper layer.
const dpkgUpper = `Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Architecture: amd64
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system.

Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: r-base-core
Status: install ok installed
Priority: optional
Section: gnu-r
Installed-Size: 30264
Maintainer: Dirk Eddelbuettel <edd@debian.org>
Architecture: amd64
Source: r-base
Version: 4.2.2.20221110-2
Description: GNU R core of statistical computation and graphics system
 R is a system for statistical computation and graphics.  It consists
 of a language plus a run-time environment with graphics, a debugger,
 access to certain system functions, and the ability to run programs
 stored in script files.
`

const tzdataStatusD = `Package: tzdata
Version: 2024a-0+deb12u1
Architecture: all
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Installed-Size: 2817
Section: localization
Priority: required
Description: time zone and daylight-saving time data
 This package contains data required for the implementation of
 standard local time for many representative locations around the
 globe.
`

const sixMetadata = `Metadata-Version: 2.1
Name: six
Version: 1.16.0
Summary: Python 2 and 3 compatibility utilities
Home-page: https://github.com/benjaminp/six
Author: Benjamin Peterson
License: MIT
Classifier: Programming Language :: Python :: 3
Requires-Python: >=2.7, !=3.0.*, !=3.1.*, !=3.2.*

Six is a Python 2 and 3 compatibility library.
`

const aptPkgInfo = `Metadata-Version: 1.1
Name: python-apt
Version: 2.6.0
Summary: Python bindings for APT
Home-page: UNKNOWN
Author: APT Development Team
License: GNU GPL
Description: UNKNOWN
Platform: posix
`

const numpyMetadata = `Metadata-Version: 2.1
Name: numpy
Version: 1.26.4
Summary: Fundamental package for array computing in Python
Home-page: https://numpy.org
Author: Travis E. Oliphant et al.
Maintainer-Email: NumPy Developers <numpy-discussion@python.org>
License: Copyright (c) 2005-2023, NumPy Developers.
Requires-Python: >=3.9
Description-Content-Type: text/markdown

<h1 align="center">NumPy</h1>
`

const packagingMetadata = `Metadata-Version: 2.1
Name: packaging
Version: 24.0
Summary: Core utilities for Python packages
`

const condaPython = `{
  "build": "hab00c5b_0_cpython",
  "build_number": 0,
  "channel": "https://conda.anaconda.org/conda-forge/linux-64",
  "depends": ["bzip2 >=1.0.8,<2.0a0", "libgcc-ng >=12"],
  "files": ["bin/python3.11", "lib/python3.11/os.py"],
  "fn": "python-3.11.7-hab00c5b_0_cpython.conda",
  "name": "python",
  "subdir": "linux-64",
  "version": "3.11.7"
}
`

const condaNumpy = `{
  "build": "py311h64a7726_0",
  "channel": "https://conda.anaconda.org/conda-forge/linux-64",
  "files": ["lib/python3.11/site-packages/numpy/__init__.py"],
  "name": "numpy",
  "subdir": "linux-64",
  "version": "1.26.4"
}
`

const condaCudaVersion = `{"build": "h69a702a_3", "channel": "https://conda.anaconda.org/conda-forge/noarch", "name": "cuda-version", "subdir": "noarch", "version": "12.2", "files": []}`

const rBase = `Package: base
Version: 4.3.2
Priority: base
Title: The R Base Package
Author: R Core Team and contributors worldwide
License: Part of R 4.3.2
Built: R 4.3.2; ; 2023-11-01 00:00:00 UTC; unix
`

const ggplot2Description = `Package: ggplot2
Version: 3.4.4
Title: Create Elegant Data Visualisations Using the Grammar of Graphics
Authors@R: 
    c(person("Hadley", "Wickham", , "hadley@posit.co", role = "aut"),
      person("Posit, PBC", role = c("cph", "fnd")))
Description: A system for 'declaratively' creating graphics, based on "The
    Grammar of Graphics".
License: MIT + file LICENSE
Repository: CRAN
Built: R 4.3.1; ; 2023-10-20 10:01:17 UTC; unix
`

const dataTableDescription = `Package: data.table
Version: 1.15.0
Title: Extension of 'data.frame'
Repository: CRAN
Built: R 4.3.2; x86_64-pc-linux-gnu; 2024-01-31 10:00:00 UTC; unix
`

const cudaVersionJSON = `{
   "cuda" : {
      "name" : "CUDA SDK",
      "version" : "12.2.2"
   },
   "cuda_cudart" : {
      "name" : "CUDA Runtime (cudart)",
      "version" : "12.2.140"
   }
}
`

const alpineOSRelease = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
HOME_URL="https://alpinelinux.org/"
`

const apkInstalled = `C:Q1qGvRg0bHqVfrAN5Tbu2eqbB6uyo=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407703
I:663552
T:the musl c library (libc) implementation
o:musl
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755

C:Q1Zo1LHDKaXNzGTgUrPJsRxgzB/vY=
P:python3
V:3.11.8-r0
A:x86_64
T:A high-level scripting language
o:python3
F:usr/bin
R:python3
`
