using System.Diagnostics;
using MLNetForgetting.Synthetic;

namespace MLNetForgetting.Tests.Synthetic;

[TestClass]
public sealed class DeterminismTests
{
    [TestMethod]
    public void SameOptionsGiveIdenticalCorporaAndNliSetsInEveryLanguage()
    {
        var a = new SyntheticTestbed(new SyntheticTestbedOptions { Seed = 7 });
        var b = new SyntheticTestbed(new SyntheticTestbedOptions { Seed = 7 });
        foreach (var language in a.Languages)
        {
            CollectionAssert.AreEqual(a.UnlabelledCorpus(language.Code, 300, 3).ToList(), b.UnlabelledCorpus(language.Code, 300, 3).ToList(), language.Code);
            CollectionAssert.AreEqual(a.NliExamples(language.Code, 300, 4).ToList(), b.NliExamples(language.Code, 300, 4).ToList(), language.Code);
            CollectionAssert.AreEqual(language.Vocabulary.ToList(), b.Language(language.Code).Vocabulary.ToList(), language.Code);
        }
    }

    [TestMethod]
    public void DifferentSeedsGiveDifferentData()
    {
        var a = new SyntheticTestbed(new SyntheticTestbedOptions { Seed = 1 });
        var b = new SyntheticTestbed(new SyntheticTestbedOptions { Seed = 2 });

        // The call seed changes the stream...
        CollectionAssert.AreNotEqual(a.UnlabelledCorpus("en", 50, 0).ToList(), a.UnlabelledCorpus("en", 50, 1).ToList());
        CollectionAssert.AreNotEqual(a.NliExamples("en", 50, 0).ToList(), a.NliExamples("en", 50, 1).ToList());
        // ...and so does the master seed, for data and for the derived lexicons (English words are fixed).
        CollectionAssert.AreNotEqual(a.UnlabelledCorpus("en", 50, 0).ToList(), b.UnlabelledCorpus("en", 50, 0).ToList());
        CollectionAssert.AreNotEqual(a.NliExamples("en", 50, 0).ToList(), b.NliExamples("en", 50, 0).ToList());
        CollectionAssert.AreEqual(a.English.Vocabulary.ToList(), b.English.Vocabulary.ToList());
        foreach (var language in a.TargetLanguages)
            CollectionAssert.AreNotEqual(language.Vocabulary.ToList(), b.Language(language.Code).Vocabulary.ToList(), language.Code);
    }

    [TestMethod]
    public void CorporaOfDifferentLanguagesAreNotTranslationsOfEachOther()
    {
        // Monolingual corpora: with the same seed, xa's corpus must not simply be en's corpus translated.
        var tb = new SyntheticTestbed();
        var en = tb.SemanticCorpus("en", 200, 0).ToList();
        var xa = tb.SemanticCorpus("xa", 200, 0).ToList();
        Assert.IsLessThan(10, en.Zip(xa).Count(p => p.First == p.Second));
    }

    [TestMethod]
    public void CorpusIsGeneratedLazilyAndIsAPrefixStream()
    {
        var tb = new SyntheticTestbed();
        var sw = Stopwatch.StartNew();
        // An eager implementation would try to build two billion sentences here.
        var first = tb.UnlabelledCorpus("xb", int.MaxValue, 5).Take(20).ToList();
        Assert.IsLessThan(5000, sw.ElapsedMilliseconds);
        CollectionAssert.AreEqual(first, tb.UnlabelledCorpus("xb", 20, 5).ToList());
    }
}
