package scan

import (
	"encoding/json"
	"errors"
	"io"
	"regexp"
)

// maxCUDAVersionFile bounds version.json; NVIDIA's lists ~40 components in
// about 3 KiB.
const maxCUDAVersionFile = 1 << 20

var cudaVersionTxt = regexp.MustCompile(`CUDA Version (\d+(?:\.\d+)*)`)

// parseCUDAVersionFile reads the toolkit version from usr/local/cuda's
// version.json (CUDA 11.1 and later: {"cuda": {"version": "12.2.2"}, …}) or
// version.txt (older: "CUDA Version 10.2.89").
func parseCUDAVersionFile(r io.Reader, isJSON bool) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCUDAVersionFile))
	if err != nil {
		return "", err
	}
	if !isJSON {
		if m := cudaVersionTxt.FindSubmatch(data); m != nil {
			return string(m[1]), nil
		}
		return "", errors.New("no \"CUDA Version\" line")
	}
	var doc struct {
		CUDA struct {
			Version string `json:"version"`
		} `json:"cuda"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", err
	}
	if doc.CUDA.Version == "" {
		return "", errors.New("no cuda.version")
	}
	return doc.CUDA.Version, nil
}
