#!/bin/sh
export PATH="${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"
export OMPI_VERSION="${OMPI_VERSION:-4.1.6}"
