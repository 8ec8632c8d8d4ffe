using MLNetForgetting.Evaluation;

namespace MLNetForgetting.Tests.Evaluation;

[TestClass]
public sealed class ClassificationReportTests
{
    private static readonly string[] Labels = ["entailment", "neutral", "contradiction"];

    [TestMethod]
    public void MetricsMatchAHandComputedExample()
    {
        var report = new ClassificationReport(Labels);
        // gold:      0 0 0 1 1 2
        // predicted: 0 0 1 1 2 2  → 4/6 correct.
        var r = report.Add("de", [0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2]);
        Assert.AreEqual(4.0 / 6, r.Accuracy, 1e-12);
        // F1: class 0: 2·2/(3+2) = 0.8; class 1: 2·1/(2+2) = 0.5; class 2: 2·1/(1+2) = 2/3.
        Assert.AreEqual((0.8 + 0.5 + 2.0 / 3) / 3, r.MacroF1, 1e-12);
        Assert.AreEqual(1, r.Confusion[0, 1]);
        Assert.AreEqual(1, r.Confusion[1, 2]);
        Assert.AreEqual(6, r.Count);

        var fromProbabilities = report.Add("fr", [2, 1], [new[] { 0.1f, 0.2f, 0.7f }, new[] { 0.5f, 0.3f, 0.2f }]);
        Assert.AreEqual(0.5, fromProbabilities.Accuracy);

        var frame = report.ToDataFrame();
        Assert.AreEqual(2, frame.Rows.Count);
        Assert.AreEqual(4 + 9, frame.Columns.Count);
        Assert.AreEqual("fr", frame.Columns["language"][1]);
        Assert.AreEqual(4.0 / 6, (double)frame.Columns["accuracy"][0]!, 1e-12);
        Assert.AreEqual(1L, frame.Columns["gold_entailment_pred_neutral"][0]);

        string csv = report.ToCsv();
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(3, lines.Length);
        StringAssert.StartsWith(lines[0], "language,examples,accuracy,macro_f1,gold_entailment_pred_entailment");
        StringAssert.StartsWith(lines[2], "fr,2,0.5,");

        string md = report.ToMarkdown();
        StringAssert.Contains(md, "| de | 6 | 66.7 | 65.6 |");
        StringAssert.Contains(md, "| neutral | 0 | 1 | 1 |");
    }

    [TestMethod]
    public void LabelsOutsideTheLabelSetAndMismatchesAreRejected()
    {
        var report = new ClassificationReport(Labels);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => report.Add("xa", [0, 3], [0, 0])).Message, "gold label 3 at position 1 is not in the label set");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => report.Add("xa", [0, 1], [0, -1])).Message, "predicted label -1");
        Assert.ThrowsExactly<ArgumentException>(() => report.Add("xa", [0, 1], [0]));
        report.Add("xa", [0], [0]);
        Assert.ThrowsExactly<ArgumentException>(() => report.Add("xa", [0], [0]));
        Assert.ThrowsExactly<ArgumentException>(() => new ClassificationReport(["yes", "yes"]));
    }
}
