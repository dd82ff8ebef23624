package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// boardPath is where the site file at sitePath says its board profile is:
// a relative board is relative to the site file's own directory, wherever
// the program was started, as the TLS files are.
func boardPath(sitePath, board string) string {
	if filepath.IsAbs(board) {
		return board
	}
	return filepath.Join(filepath.Dir(sitePath), board)
}

// boardProfileHomes are where board profiles are kept: the packaged kiosk's
// and this repository's (from its root, where make run and the docs start).
var boardProfileHomes = []string{"/etc/fengqiao/boards", "firmware-configs/boards"}

// boardProblem explains a board profile that cannot be read. A site file
// copied elsewhere (to edit it, to keep one per kiosk) keeps a relative
// board that now leads nowhere: the message says where it looked, why
// there, and what to write instead, with a profile of the same name when
// one is where profiles are kept.
func boardProblem(sitePath, board string, err error) string {
	if !errors.Is(err, fs.ErrNotExist) {
		return err.Error()
	}
	path := boardPath(sitePath, board)
	msg := fmt.Sprintf("no such file as %s", path)
	if !filepath.IsAbs(board) {
		msg += fmt.Sprintf(" (%q is taken relative to the site file's directory, %s, not the working directory)", board, filepath.Dir(sitePath))
	}
	for _, home := range boardProfileHomes {
		cand := filepath.Join(home, filepath.Base(board))
		if fi, err := os.Stat(cand); err == nil && fi.Mode().IsRegular() {
			if abs, err := filepath.Abs(cand); err == nil {
				cand = abs
			}
			return msg + fmt.Sprintf(": write board: %s (or keep the site file beside the profiles it names)", cand)
		}
	}
	return msg + ": write the profile's absolute path in board:, or copy the profile to where the path leads"
}
