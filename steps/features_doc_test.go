package steps

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gherkin "github.com/cucumber/gherkin/go/v42"
	gmsg "github.com/cucumber/messages/go/v34"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The features are read as the manual: these tests hold them to the rules
// features/README.md states for them.

// features parses every feature file, by file name.
func features(t *testing.T) map[string]*gmsg.GherkinDocument {
	t.Helper()
	paths, err := filepath.Glob("../features/*.feature")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	docs := map[string]*gmsg.GherkinDocument{}
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		doc, err := gherkin.ParseGherkinDocument(bufio.NewReader(f), (&gmsg.Incrementing{}).NewId)
		f.Close()
		require.NoError(t, err, p)
		docs[filepath.Base(p)] = doc
	}
	return docs
}

// scenarios lists a feature's scenarios, those under its rules too.
func scenarios(f *gmsg.Feature) []*gmsg.Scenario {
	var all []*gmsg.Scenario
	for _, c := range f.Children {
		if c.Scenario != nil {
			all = append(all, c.Scenario)
		}
		if c.Rule != nil {
			for _, rc := range c.Rule.Children {
				if rc.Scenario != nil {
					all = append(all, rc.Scenario)
				}
			}
		}
	}
	return all
}

// prose is every text of a feature a reader reads as its rules: the
// descriptions of the feature, its rules and scenarios, their names and
// the steps' text (not DocStrings, which show output).
func prose(f *gmsg.Feature) []string {
	texts := []string{f.Name, f.Description}
	for _, c := range f.Children {
		if c.Rule != nil {
			texts = append(texts, c.Rule.Name, c.Rule.Description)
		}
	}
	for _, s := range scenarios(f) {
		texts = append(texts, s.Name, s.Description)
		for _, st := range s.Steps {
			texts = append(texts, st.Text)
		}
	}
	return texts
}

// Descriptions state rules: measurements with their history and the
// history itself live in the docs and the CHANGELOG. The words that give
// them away are listed in features/not-in-features.txt.
func TestFeaturesStateRulesNotHistory(t *testing.T) {
	words, err := os.ReadFile("../features/not-in-features.txt")
	require.NoError(t, err)
	var banned []string
	for line := range strings.SplitSeq(string(words), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			banned = append(banned, strings.ToLower(line))
		}
	}
	require.NotEmpty(t, banned)
	for name, doc := range features(t) {
		for _, text := range prose(doc.Feature) {
			lower := strings.ToLower(text)
			for _, w := range banned {
				assert.NotContains(t, lower, w, "%s: %q", name, text)
			}
		}
	}
}

// A scenario acts, then looks: no When after a Then.
func TestNoScenarioActsAfterItsOutcome(t *testing.T) {
	for name, doc := range features(t) {
		for _, s := range scenarios(doc.Feature) {
			seenThen := false
			for _, st := range s.Steps {
				switch st.KeywordType {
				case gmsg.StepKeywordType_OUTCOME:
					seenThen = true
				case gmsg.StepKeywordType_ACTION:
					assert.False(t, seenThen, "%s: %q has a When after a Then: %q", name, s.Name, st.Text)
				}
			}
		}
	}
}

// limits.feature and rfc862.feature group their scenarios under rules.
func TestLimitsAndRFC862AreGroupedByRule(t *testing.T) {
	docs := features(t)
	for _, name := range []string{"limits.feature", "rfc862.feature"} {
		rules, loose := 0, 0
		for _, c := range docs[name].Feature.Children {
			if c.Rule != nil {
				rules++
			}
			if c.Scenario != nil {
				loose++
			}
		}
		assert.GreaterOrEqual(t, rules, 2, name)
		assert.Zero(t, loose, "%s: every scenario under a rule", name)
	}
}

// Output a user sees is shown, in DocStrings the steps check, in at
// least eight features.
func TestFeaturesShowOutput(t *testing.T) {
	var showing []string
	for name, doc := range features(t) {
	scenarios:
		for _, s := range scenarios(doc.Feature) {
			for _, st := range s.Steps {
				if st.DocString != nil {
					showing = append(showing, name)
					break scenarios
				}
			}
		}
	}
	assert.GreaterOrEqual(t, len(showing), 8, "features with output shown: %v", showing)
}

// features/README.md is the way in: its reading order has every feature,
// and its tags table every tag.
func TestFeaturesREADMENamesEveryFeatureAndTag(t *testing.T) {
	readme, err := os.ReadFile("../features/README.md")
	require.NoError(t, err)
	text := string(readme)
	for name, doc := range features(t) {
		assert.Contains(t, text, "["+name+"]("+name+")", "the reading order")
		tags := doc.Feature.Tags
		for _, s := range scenarios(doc.Feature) {
			tags = append(tags, s.Tags...)
		}
		for _, c := range doc.Feature.Children {
			if c.Rule != nil {
				tags = append(tags, c.Rule.Tags...)
			}
		}
		for _, tag := range tags {
			assert.Regexp(t, `(?m)^\| [^|]*`+tag.Name+`\b[^|]*\|`, text, "%s: the tags table has %s", name, tag.Name)
		}
	}
}
