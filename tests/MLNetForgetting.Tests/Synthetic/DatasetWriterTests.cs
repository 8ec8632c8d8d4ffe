using MLNetForgetting.Synthetic;

namespace MLNetForgetting.Tests.Synthetic;

[TestClass]
public sealed class DatasetWriterTests
{
    [TestMethod]
    public void WritesTheSharedDataLayoutAsParsableTsv()
    {
        var tb = new SyntheticTestbed();
        string dir = Path.Combine(Path.GetTempPath(), "mlnf-synthetic-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.AreEqual(dir, tb.WriteDataset(dir, corpusSentences: 200, nliTrain: 150, nliDev: 60));

            var devByLanguage = new Dictionary<string, List<string[]>>();
            foreach (var language in tb.Languages)
            {
                string raw = Path.Combine(dir, "raw", language.Code, "synthetic.txt");
                string[] corpus = File.ReadAllLines(raw);
                Assert.HasCount(200, corpus);
                CollectionAssert.AreEqual(tb.UnlabelledCorpus(language.Code, 200, SyntheticTestbed.DatasetCorpusSeed).ToArray(), corpus);
                Assert.DoesNotContain((byte)'\r', File.ReadAllBytes(raw));

                var rows = ReadTsv(Path.Combine(dir, "xnli", "dev", $"dev.{language.Code}.tsv"), "premise\thypothesis\tlabel");
                Assert.HasCount(60, rows);
                foreach (var row in rows)
                {
                    Assert.Contains(row[2], NliLabels.All);
                    Assert.AreEqual(row[2], tb.Label(language.Parse(row[0]), language.Parse(row[1])));
                }
                devByLanguage[language.Code] = rows;
            }
            // Aligned like XNLI: row i of every language is the same example.
            foreach (var (code, rows) in devByLanguage)
                for (int i = 0; i < rows.Count; i++)
                    Assert.AreEqual(devByLanguage["en"][i][0], tb.Translate(rows[i][0], code, "en"), $"{code} row {i}");

            var train = ReadTsv(Path.Combine(dir, "glue_pools", "MNLI", "train.tsv"), "text_a\ttext_b\tlabel");
            Assert.HasCount(150, train);
            var expected = tb.NliExamples("en", 150, SyntheticTestbed.DatasetTrainSeed);
            CollectionAssert.AreEqual(expected.Select(e => $"{e.Premise}\t{e.Hypothesis}\t{e.Label}").ToArray(), train.Select(r => string.Join('\t', r)).ToArray());
            // Train and dev come from different seeds.
            CollectionAssert.AreNotEqual(devByLanguage["en"].Take(50).Select(r => r[0]).ToArray(), train.Take(50).Select(r => r[0]).ToArray());

            Assert.Contains("xc", File.ReadAllText(Path.Combine(dir, "SOURCES.md")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static List<string[]> ReadTsv(string path, string header)
    {
        string[] lines = File.ReadAllLines(path);
        Assert.AreEqual(header, lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split('\t')).ToList();
        foreach (var row in rows) Assert.HasCount(3, row, path);
        return rows;
    }
}
