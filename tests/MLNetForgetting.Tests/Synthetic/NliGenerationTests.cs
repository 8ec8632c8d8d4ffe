using MLNetForgetting.Synthetic;

namespace MLNetForgetting.Tests.Synthetic;

[TestClass]
public sealed class NliGenerationTests
{
    private static readonly SyntheticTestbed Testbed = new();

    [TestMethod]
    public void EveryRenderedPairReadsBackToItsOracleLabelInEveryLanguage()
    {
        // Recomputed from the text, so this also checks that rendering keeps the meaning the label was made for.
        foreach (var language in Testbed.Languages)
        {
            foreach (var e in Testbed.NliExamples(language.Code, 600, 11))
            {
                string oracle = Testbed.Label(language.Parse(e.Premise), language.Parse(e.Hypothesis));
                Assert.AreEqual(oracle, e.Label, $"{language.Code}: {e.Premise} / {e.Hypothesis}");
            }
        }
    }

    [TestMethod]
    [DataRow(900)]
    [DataRow(901)]
    [DataRow(3001)]
    public void LabelsAreBalancedAndNotPeriodic(int count)
    {
        var examples = Testbed.NliExamples("en", count, 3);
        var counts = NliLabels.All.Select(l => examples.Count(e => e.Label == l)).ToArray();
        Assert.AreEqual(count, counts.Sum());
        Assert.IsLessThanOrEqualTo(1, counts.Max() - counts.Min(), string.Join(",", counts));
        // A fixed cycle E,N,C,... would let position predict the label.
        int periodic = examples.Select((e, i) => e.Label == NliLabels.All[i % 3]).Count(x => x);
        Assert.IsLessThan(0.5 * count, periodic);
    }

    [TestMethod]
    public void EveryEditKindOccursAndPremisesAreAffirmative()
    {
        var examples = Testbed.SemanticNliExamples(3000, 5);
        var kinds = examples.Select(e => e.Label + "/" + e.Transformation).ToHashSet();
        foreach (string kind in new[]
                 {
                     "entailment/drop-modifiers", "entailment/generalise", "entailment/negated-false",
                     "neutral/add-modifier", "neutral/specialise",
                     "contradiction/antonym", "contradiction/swap-roles", "contradiction/negation", "contradiction/verb-change",
                 })
            Assert.Contains(kind, kinds);
        Assert.IsFalse(examples.Any(e => e.Premise.Negated));
    }

    [TestMethod]
    public void RowsAreAlignedAcrossLanguages()
    {
        var semantic = Testbed.SemanticNliExamples(400, 9);
        var en = Testbed.NliExamples("en", 400, 9);
        foreach (var language in Testbed.TargetLanguages)
        {
            var rows = Testbed.NliExamples(language.Code, 400, 9);
            for (int i = 0; i < rows.Count; i++)
            {
                Assert.AreEqual(semantic[i].Premise, language.Parse(rows[i].Premise), $"{language.Code} row {i}");
                Assert.AreEqual(semantic[i].Hypothesis, language.Parse(rows[i].Hypothesis), $"{language.Code} row {i}");
                Assert.AreEqual(en[i].Label, rows[i].Label);
                // The public translation path agrees with the semantic layer.
                Assert.AreEqual(rows[i].Premise, Testbed.Translate(en[i].Premise, "en", language.Code));
                Assert.AreEqual(en[i].Hypothesis, Testbed.Translate(rows[i].Hypothesis, language.Code, "en"));
            }
        }
    }

    [TestMethod]
    public void KnobsAreHonoured()
    {
        var tb = new SyntheticTestbed(new SyntheticTestbedOptions
        {
            NounCount = 6, VerbCount = 3, AttributeDimensionCount = 2, MaxPremiseModifiers = 1,
            UseCategories = false, IncludeNegatedEntailments = false,
        });
        // 3 function words + 6 nouns + 0 categories + 2x3 verb forms + 2x2 adjectives.
        Assert.HasCount(19, tb.English.Vocabulary);
        var examples = tb.SemanticNliExamples(600, 1);
        Assert.IsFalse(examples.Any(e => e.Transformation is "negated-false" or "generalise" or "specialise"));
        Assert.IsTrue(examples.All(e => e.Premise.Subject.Attributes.Count <= 1 && e.Premise.Object.Attributes.Count <= 1));
        foreach (var e in examples) Assert.AreEqual(e.Label, tb.Label(e.Premise, e.Hypothesis));
    }

    [TestMethod]
    public void OptionsOutOfRangeAreRejected()
    {
        // Premises stating every dimension would leave nothing open for neutral pairs.
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SyntheticTestbed(new SyntheticTestbedOptions { AttributeDimensionCount = 2, MaxPremiseModifiers = 2 }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SyntheticTestbed(new SyntheticTestbedOptions { NounCount = 25 }));
        Assert.ThrowsExactly<ArgumentException>(() => new SyntheticTestbed(new SyntheticTestbedOptions { TargetLanguages = new[] { DerivedLanguageSpec.Xa, DerivedLanguageSpec.Xa } }));
        Assert.ThrowsExactly<ArgumentException>(() => new SyntheticTestbed(new SyntheticTestbedOptions { TargetLanguages = new[] { DerivedLanguageSpec.Xa with { Code = "en" } } }));
        Assert.ThrowsExactly<ArgumentException>(() => new SyntheticTestbed(new SyntheticTestbedOptions { TargetLanguages = new[] { DerivedLanguageSpec.Xa with { LexiconOverlap = 1.5 } } }));
    }

    [TestMethod]
    public void UnknownLanguageCodeNamesTheKnownCodes()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Testbed.Language("fr"));
        foreach (string code in new[] { "en", "xa", "xb", "xc", "xd" }) Assert.Contains(code, ex.Message);
        Assert.Contains("fr", ex.Message);
        // The streaming and dataset entry points check eagerly, not on first enumeration.
        Assert.ThrowsExactly<ArgumentException>(() => Testbed.UnlabelledCorpus("fr", 10, 0));
        Assert.ThrowsExactly<ArgumentException>(() => Testbed.NliExamples("fr", 10, 0));
    }
}
