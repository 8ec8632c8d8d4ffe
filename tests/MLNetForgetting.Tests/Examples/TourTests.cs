using System.Reflection;
using Microsoft.ML;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Tests.Infrastructure;

namespace MLNetForgetting.Tests.Examples;

/// <summary>The README's five-minute tour is examples/Tour: the same code, and it runs.</summary>
[TestClass]
public sealed class TourTests
{
    private static string RepoFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLNetForgetting.sln"))) return Path.Combine([dir.FullName, .. parts]);
        throw new AssertInconclusiveException("MLNetForgetting.sln not found above " + AppContext.BaseDirectory);
    }

    // The lines strictly between the two markers.
    private static string[] Between(string[] lines, string begin, string end)
    {
        int a = Array.FindIndex(lines, l => l.Trim() == begin), b = Array.FindIndex(lines, l => l.Trim() == end);
        Assert.IsTrue(a >= 0 && b > a, $"markers '{begin}' / '{end}' not found in order");
        return lines[(a + 1)..b].Select(l => l.TrimEnd()).ToArray();
    }

    [TestMethod]
    public void The_README_tour_is_the_code_of_examples_Tour()
    {
        var program = Between(File.ReadAllLines(RepoFile("examples", "Tour", "Program.cs")), "// tour:begin", "// tour:end");
        var readme = Between(File.ReadAllLines(RepoFile("README.md")), "<!-- tour:begin (examples/Tour/Program.cs; a test fails when they differ) -->", "<!-- tour:end -->");
        Assert.AreEqual("```csharp", readme[0]);
        Assert.AreEqual("```", readme[^1]);
        var shown = readme[1..^1];
        for (int i = 0; i < Math.Min(program.Length, shown.Length); i++)
            Assert.AreEqual(program[i], shown[i], $"line {i + 1} of the tour differs between examples/Tour/Program.cs and README.md");
        Assert.AreEqual(program.Length, shown.Length, "the tour has a different number of lines in README.md");
    }

    [TestMethod]
    public void The_tour_runs_at_tiny_sizes()
    {
        using var dir = new TempDir();
        var entry = Assembly.Load("Tour").EntryPoint!;
        var started = DateTime.UtcNow;
        entry.Invoke(null, new object[] { new[] { "--tiny", "--output", dir.Path } });
        Console.WriteLine($"tour --tiny: {(DateTime.UtcNow - started).TotalSeconds:F0} s");
        var ml = new MLContext();
        Assert.IsInstanceOfType<LanguageModelTransformer>(ml.Model.Load(dir.File("lm.zip"), out _));
        var assembled = (SentencePairClassifierTransformer)ml.Model.Load(dir.File("nli-xa.zip"), out _);
        StringAssert.Contains(assembled.Description, "assembled for xa");
        Assert.IsTrue(new FileInfo(dir.File("mnli.adapters")).Length > 0);
    }

    [TestMethod]
    public void The_tour_starts_from_a_pretrained_Hugging_Face_folder()
    {
        // A tiny BERT folder in Hugging Face's layout (uncased WordPiece, no relation to our tokenizers) holding the
        // MNLI label words; the tour relearns, fine-tunes, assembles and runs LiST on it instead of pretraining.
        using var dir = new TempDir();
        using (Interop.BertImportTests.WriteTinyBertDirectory(dir.File("hf"), extraWords: ["yes", "maybe", "no"])) { }
        var entry = Assembly.Load("Tour").EntryPoint!;
        entry.Invoke(null, new object[] { new[] { "--tiny", "--output", dir.File("out"), "--pretrained", dir.File("hf") } });
        var ml = new MLContext();
        var lm = (LanguageModelTransformer)ml.Model.Load(dir.File("out/lm.zip"), out _);
        Assert.AreEqual("bert", lm.Model.Config.ModelType, "the tour's language model is the pretrained BERT, not a pretrained-here RoBERTa");
        Assert.IsFalse(Directory.Exists(dir.File("out/ckpt")), "nothing was pretrained");
        var assembled = (SentencePairClassifierTransformer)ml.Model.Load(dir.File("out/nli-xa.zip"), out _);
        StringAssert.Contains(assembled.Description, "assembled for xa");
        Assert.IsTrue(new FileInfo(dir.File("out/mnli.adapters")).Length > 0);
    }
}
