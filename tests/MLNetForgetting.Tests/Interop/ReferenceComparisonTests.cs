using System.Diagnostics;
using System.Text.Json;
using MLNetForgetting.Interop;
using MLNetForgetting.Tests.Adaptation;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Text;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Interop;

/// <summary>
/// Our MLM and classifier logits against the independent PyTorch reference (tools/reference) on 100 real
/// English sentences from ../shared/data/raw/en. Needs python3 with torch (Debian: apt-get install
/// python3-torch); inconclusive without it or without the data. MLNF_REFERENCE_OUT=dir keeps the export
/// and ours.json there for a manual run of compare.py.
/// </summary>
[TestClass]
public sealed class ReferenceComparisonTests
{
    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Directory.Packages.props"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root not found");
    }

    internal static string[] RealSentences(int count)
    {
        string dataDir = Environment.GetEnvironmentVariable("MLNF_SHARED_DATA") ?? Path.Combine(RepoRoot(), "..", "shared", "data");
        string file = Path.Combine(dataDir, "raw", "en", "wikitext2_valid.txt");
        if (!File.Exists(file)) return [];
        return File.ReadLines(file).Select(l => l.Trim()).Where(l => l.Length >= 40 && !l.StartsWith('=')).Take(count).ToArray();
    }

    internal static string? PythonWithTorch()
    {
        foreach (var python in new[] { Environment.GetEnvironmentVariable("MLNF_PYTHON"), "/usr/bin/python3", "python3" })
        {
            if (string.IsNullOrEmpty(python)) continue;
            try
            {
                using var p = Process.Start(new ProcessStartInfo(python, ["-c", "import torch"]) { RedirectStandardError = true, RedirectStandardOutput = true });
                if (p is null) continue;
                p.WaitForExit(60_000);
                if (p.HasExited && p.ExitCode == 0) return python;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        return null;
    }

    /// <summary>Writes the ids, masks and our logits (eval mode) in the format compare.py reads.</summary>
    internal static void WriteOurs(MLNetForgetting.Modeling.RobertaForMaskedLM model, SubwordTokenizer tokenizer, IReadOnlyList<string> sentences, int maxLength, string path)
    {
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var sequences = sentences.Select(s => tokenizer.EncodeSingle(s, maxLength)).ToList();
        var (ids, mask) = PaddedBatch.Create(sequences, tokenizer.PadId, CPU);
        var hidden = model.forward(ids, mask);
        var mlm = model.MlmLogits(hidden);
        var cls = model.Classifier?.forward(hidden);
        long b = ids.shape[0], t = ids.shape[1], v = mlm.shape[2];
        var idData = ids.data<long>().ToArray(); var maskData = mask.to(ScalarType.Int64).data<long>().ToArray(); var mlmData = mlm.data<float>().ToArray();
        using var fs = File.Create(path);
        using var w = new Utf8JsonWriter(fs);
        w.WriteStartObject();
        void Matrix(string name, long[] data)
        {
            w.WriteStartArray(name);
            for (long i = 0; i < b; i++) { w.WriteStartArray(); for (long j = 0; j < t; j++) w.WriteNumberValue(data[i * t + j]); w.WriteEndArray(); }
            w.WriteEndArray();
        }
        Matrix("input_ids", idData);
        Matrix("attention_mask", maskData);
        w.WriteStartArray("mlm_logits");
        for (long i = 0; i < b; i++)
        {
            w.WriteStartArray();
            for (long j = 0; j < t; j++) { w.WriteStartArray(); for (long k = 0; k < v; k++) w.WriteNumberValue(mlmData[(i * t + j) * v + k]); w.WriteEndArray(); }
            w.WriteEndArray();
        }
        w.WriteEndArray();
        if (cls is not null)
        {
            var c = cls.data<float>().ToArray(); long n = cls.shape[1];
            w.WriteStartArray("classifier_logits");
            for (long i = 0; i < b; i++) { w.WriteStartArray(); for (long k = 0; k < n; k++) w.WriteNumberValue(c[i * n + k]); w.WriteEndArray(); }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    [TestMethod]
    public void PyTorchReferenceReproducesOurLogitsOnRealSentences()
    {
        var sentences = RealSentences(100);
        if (sentences.Length < 100) Assert.Inconclusive("../shared/data/raw/en/wikitext2_valid.txt is not available (set MLNF_SHARED_DATA).");
        string? python = PythonWithTorch();
        if (python is null) Assert.Inconclusive("python3 with torch is not installed (Debian: apt-get install python3-torch); see tools/reference/README.md.");

        using var temp = new TempDir();
        string outDir = Environment.GetEnvironmentVariable("MLNF_REFERENCE_OUT") ?? temp.Path;
        string export = Path.Combine(outDir, "export"), ours = Path.Combine(outDir, "ours.json");
        using var model = AdaptationTestData.NewPretrainedModel();
        model.AddClassifier(3, new Generator(21));
        var tokenizer = AdaptationTestData.EnglishTokenizer;
        HuggingFaceExport.Export(model, tokenizer, export, ExportFormat.Both);
        WriteOurs(model, tokenizer, sentences, model.Config.MaxSequenceLength, ours);

        string script = Path.Combine(RepoRoot(), "tools", "reference", "compare.py");
        foreach (var format in new[] { "auto", "pytorch" })
        {
            var psi = new ProcessStartInfo(python, [script, export, ours, "--format", format, "--tolerance", "1e-4"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Console.WriteLine(stdout);
            Assert.AreEqual(0, p.ExitCode, $"compare.py ({format}) failed:\n{stdout}\n{stderr}");
        }
    }
}
