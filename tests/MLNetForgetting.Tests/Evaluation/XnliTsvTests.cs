using MLNetForgetting.Evaluation;
using MLNetForgetting.Tests.Text;

namespace MLNetForgetting.Tests.Evaluation;

[TestClass]
public sealed class XnliTsvTests
{
    private static LabelledPairs Parse(string text, IReadOnlyList<string>? labels = null) => XnliTsv.Read(new StringReader(text), "test.tsv", labels);

    [TestMethod]
    public void LoadsTheRealEnglishXnliDevSet()
    {
        var dev = XnliTsv.Load(Path.Combine(TextTestData.DataRoot, "xnli", "dev", "dev.en.tsv"));
        Assert.AreEqual(2490, dev.Examples.Count);
        CollectionAssert.AreEqual(new[] { 830, 830, 830 }, dev.Examples.GroupBy(e => e.Label).OrderBy(g => g.Key).Select(g => g.Count()).ToArray());
        Assert.AreEqual("And he said, Mama, I'm home.", dev.Examples[0].Premise);
        Assert.AreEqual(XnliTsv.NliLabelNames.ToList().IndexOf("neutral"), dev.Examples[0].Label);
    }

    [TestMethod]
    public void LoadsMnliWithItsTextATextBHeaderAndCapsTheCount()
    {
        string path = Path.Combine(TextTestData.DataRoot, "glue_pools", "MNLI", "train.tsv");
        Assert.AreEqual(8999, XnliTsv.Load(path).Examples.Count);
        Assert.AreEqual(100, XnliTsv.Load(path, maxExamples: 100).Examples.Count);
    }

    [TestMethod]
    public void HeadersAreFoundByNameAndHeaderlessFilesUseColumnOrder()
    {
        var reordered = Parse("label\thypothesis\tpremise\nContradiction\th1\tp1\n\nneutral\th2\tp2\n");
        Assert.AreEqual(2, reordered.Examples.Count);
        Assert.AreEqual(("p1", "h1", 2), reordered.Examples[0]);
        var headerless = Parse("p1\th1\tentailment\np2\th2\tneutral ");
        Assert.AreEqual(("p2", "h2", 1), headerless.Examples[1]);
        var custom = Parse("a\tb\tyes\n", ["no", "yes"]);
        Assert.AreEqual(1, custom.Examples[0].Label);
    }

    [TestMethod]
    public void BadRowsAreErrorsNamingFileAndLine()
    {
        var unknown = Assert.ThrowsExactly<InvalidDataException>(() => Parse("premise\thypothesis\tlabel\np\th\tentailment\np\th\tnot_entailment\n"));
        StringAssert.Contains(unknown.Message, "test.tsv, line 3");
        StringAssert.Contains(unknown.Message, "'not_entailment'");
        StringAssert.Contains(unknown.Message, "{entailment, neutral, contradiction}");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Parse("premise\thypothesis\tlabel\np\th\n")).Message, "line 2: expected at least 3");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Parse("premise\thypothesis\tlabel\n \th\tneutral\n")).Message, "line 2: the premise is empty");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Parse("p\t\tneutral\n")).Message, "line 1: the hypothesis is empty");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Parse("premise\tlabel\np\tneutral\n")).Message, "lacks a hypothesis");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Parse("premise\thypothesis\tlabel\n")).Message, "no examples");
        Assert.ThrowsExactly<FileNotFoundException>(() => XnliTsv.Load("/nonexistent/dev.xx.tsv"));
    }

    [TestMethod]
    public void StringLabelsOutsideTheTrainingLabelSetAreRejected()
    {
        var e = Assert.ThrowsExactly<InvalidDataException>(() => LabelledPairs.FromStrings("xa dev", [("p", "h", "entailment"), ("p", "h", "maybe")]));
        StringAssert.Contains(e.Message, "example 1 has label 'maybe'");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LabelledPairs.FromStrings("xa dev", [(null, "h", "neutral")])).Message, "example 0 has an empty premise");
    }
}
