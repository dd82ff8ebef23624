// Package editdist owns the one edit distance the agent's "did you mean"
// suggestions share (a site file's misspelt key, a mistyped kiosk id), so
// that they agree on what counts as a typo.
package editdist

// Distance is the Levenshtein distance of a and b, counted in bytes: the
// keys and ids it compares are ASCII by the site file's rules, and a
// multi-byte rune only makes a suggestion rarer.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
