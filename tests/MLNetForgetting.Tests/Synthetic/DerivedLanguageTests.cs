using System.Globalization;
using MLNetForgetting.Synthetic;

namespace MLNetForgetting.Tests.Synthetic;

[TestClass]
public sealed class DerivedLanguageTests
{
    private static readonly SyntheticTestbed Testbed = new();

    [TestMethod]
    public void DefaultTargetsHaveDisjointVocabularyFromEnglish()
    {
        var english = Testbed.English.Vocabulary.ToHashSet();
        CollectionAssert.AreEqual(new[] { "xa", "xb", "xc", "xd" }, Testbed.TargetLanguages.Select(l => l.Code).ToArray());
        foreach (var language in Testbed.TargetLanguages)
        {
            Assert.IsEmpty(language.SharedWithEnglish, language.Code);
            Assert.IsFalse(language.Vocabulary.Any(english.Contains), language.Code);
            // Distinct and prefix-free: what makes unsegmented text decodable.
            Assert.HasCount(language.Vocabulary.Count, language.Vocabulary.Distinct());
            foreach (string a in language.Vocabulary)
                foreach (string b in language.Vocabulary)
                    Assert.IsTrue(a == b || !b.StartsWith(a, StringComparison.Ordinal), $"{language.Code}: '{a}' is a prefix of '{b}'");
        }
    }

    [TestMethod]
    [DataRow("xa", 0x0400, 0x04FF)] // Cyrillic
    [DataRow("xb", 0x0370, 0x03FF)] // Greek
    [DataRow("xc", 0x3040, 0x309F)] // Hiragana
    [DataRow("xd", 0x10A0, 0x10FF)] // Georgian
    public void TargetTextUsesOnlyItsScript(string code, int first, int last)
    {
        foreach (string line in Testbed.UnlabelledCorpus(code, 300, 0))
            foreach (char c in line.Where(c => c != ' '))
                Assert.IsTrue(c >= first && c <= last, $"{code}: U+{(int)c:X4} in \"{line}\"");
        // Sanity check of the ranges themselves: English letters are outside all of them.
        Assert.IsFalse(Testbed.UnlabelledCorpus("en", 50, 0).Any(l => l.Any(c => c >= first && c <= last)));
    }

    [TestMethod]
    public void WordOrderAndAdjectivePositionFollowTheSpec()
    {
        var en = Testbed.English;
        var xb = Testbed.Language("xb");
        var s = en.Parse("the big dog sees the old cat");
        string[] words = xb.Render(s).Split(' ');
        string W(string english) => xb.EnglishToSurface[english];
        // SOV with adjectives after the noun: the dog big, the cat old, sees.
        CollectionAssert.AreEqual(new[] { W("the"), W("dog"), W("big"), W("the"), W("cat"), W("old"), W("sees") }, words);

        var negated = en.Parse("the dog does not see the cat");
        CollectionAssert.AreEqual(new[] { W("the"), W("dog"), W("the"), W("cat"), W("does"), W("not"), W("see") }, xb.Render(negated).Split(' '));

        // xa keeps English order word for word.
        var xa = Testbed.Language("xa");
        CollectionAssert.AreEqual(en.Render(s).Split(' ').Select(w => xa.EnglishToSurface[w]).ToArray(), xa.Render(s).Split(' '));
    }

    [TestMethod]
    public void SegmentationAndMorphologyFollowTheSpec()
    {
        var en = Testbed.English;
        var xc = Testbed.Language("xc");
        var xd = Testbed.Language("xd");
        Assert.IsFalse(Testbed.UnlabelledCorpus("xc", 500, 0).Any(l => l.Any(char.IsWhiteSpace)));
        Assert.AreEqual(string.Concat(en.Render(en.Parse("the dog sees the cat")).Split(' ').Select(w => xc.EnglishToSurface[w])),
            xc.Render(en.Parse("the dog sees the cat")));

        // Agglutinative: "dog-the sees cat-the", "dog-the does-not-see cat-the".
        string W(string english) => xd.EnglishToSurface[english];
        Assert.AreEqual($"{W("dog")}{W("the")} {W("sees")} {W("cat")}{W("the")}", xd.Render(en.Parse("the dog sees the cat")));
        Assert.AreEqual($"{W("big")} {W("dog")}{W("the")} {W("does")}{W("not")}{W("see")} {W("cat")}{W("the")}",
            xd.Render(en.Parse("the big dog does not see the cat")));
    }

    [TestMethod]
    public void RenderAndParseAreInversesForEveryLanguage()
    {
        foreach (var language in Testbed.Languages)
            foreach (var s in Testbed.SemanticCorpus(language.Code, 1000, 2))
                Assert.AreEqual(s, language.Parse(language.Render(s)), language.Code);
    }

    [TestMethod]
    public void ParseRejectsTextOutsideTheLanguage()
    {
        var xd = Testbed.Language("xd");
        string good = xd.Render(Testbed.English.Parse("the dog sees the cat"));
        Assert.IsTrue(xd.TryParse(good, out _));
        Assert.IsFalse(xd.TryParse(good.Replace(" ", ""), out _), "missing word boundaries");
        Assert.IsFalse(xd.TryParse(good + " ", out _));
        Assert.IsFalse(Testbed.English.TryParse("the dog sees", out _));
        Assert.IsFalse(Testbed.English.TryParse("the old big dog sees the cat", out _), "adjective order");
        Assert.IsTrue(Testbed.English.TryParse("the dog sees the cat", out _));
        Assert.ThrowsExactly<FormatException>(() => Testbed.Language("xa").Parse("the dog sees the cat"));
    }

    [TestMethod]
    public void LexiconOverlapSharesExactlyTheDeclaredEntries()
    {
        var tb = new SyntheticTestbed(new SyntheticTestbedOptions
        {
            TargetLanguages = new[]
            {
                // Latin script and no spaces is the hardest case for segmentation: loanwords and pseudo-words use the same letters.
                new DerivedLanguageSpec { Code = "xl", Script = SyntheticScript.Latin, Segmentation = Segmentation.NoSpaces, WordOrder = WordOrder.VSO, LexiconOverlap = 0.5 },
            },
        });
        var xl = tb.Language("xl");
        var english = tb.English.Vocabulary.ToHashSet();
        // 12 nouns + 3 categories + 6 adjectives are candidates; half of 21 rounds to 11 (minus any dropped for prefix clashes).
        Assert.IsTrue(xl.SharedWithEnglish.Count is >= 9 and <= 11, xl.SharedWithEnglish.Count.ToString(CultureInfo.InvariantCulture));
        CollectionAssert.AreEquivalent(xl.SharedWithEnglish.ToList(), xl.Vocabulary.Where(english.Contains).ToList());
        foreach (string w in xl.SharedWithEnglish) Assert.AreEqual(w, xl.EnglishToSurface[w]);
        foreach (var s in tb.SemanticCorpus("xl", 1000, 0)) Assert.AreEqual(s, xl.Parse(xl.Render(s)));
        // VSO: the sentence starts with the verb.
        Assert.StartsWith(xl.EnglishToSurface["sees"], xl.Render(tb.English.Parse("the dog sees the cat")));
    }
}
