using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.Interop;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling;
using MLNetForgetting.Persistence;
using MLNetForgetting.Tests.Adaptation;
using MLNetForgetting.Tests.CrossLingual;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Interop;

/// <summary>
/// BERT-family import: a tiny Hugging Face BERT directory written here in HF's own layout (BertForPreTraining
/// keys, HF config.json and tokenizer_config.json), and all-MiniLM-L6-v2 converted from its package; both fit
/// in a pipeline, save to a zip and predict identically in a new process. Plus each bad-input error.
/// </summary>
[TestClass]
public sealed class BertImportTests
{
    private static readonly string[] Specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <summary>A WordPiece vocabulary covering the synthetic English NLI sentences: specials, their words, and every letter (also as ##).</summary>
    private static string[] TinyVocabulary(IEnumerable<string>? extraWords = null)
    {
        var words = AdaptationTestData.Testbed.NliExamples("en", 200, 1)
            .SelectMany(e => (e.Premise + " " + e.Hypothesis).ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(w => new string(w.Where(char.IsLetterOrDigit).ToArray())).Where(w => w.Length > 0);
        var chars = "abcdefghijklmnopqrstuvwxyz0123456789".Select(c => c.ToString()).ToList();
        return [.. Specials, .. chars, .. chars.Select(c => "##" + c), ".", ",", "?", "!", "'", .. words.Concat(extraWords ?? []).Distinct().Order(StringComparer.Ordinal).Where(w => w.Length > 1)];
    }

    /// <summary>Writes an HF BertForPreTraining directory (as transformers' save_pretrained lays it out) from a random tiny BERT; returns that model.</summary>
    internal static RobertaForMaskedLM WriteTinyBertDirectory(string directory, Action<Dictionary<string, Tensor>>? editWeights = null, Action<JsonObject>? editConfig = null,
        IEnumerable<string>? extraWords = null)
    {
        string[] vocab = TinyVocabulary(extraWords);
        var config = new RobertaConfig
        {
            ModelType = RobertaConfig.BertModelType, TypeVocabSize = 2, SeparatorTokenId = Array.IndexOf(vocab, "[SEP]"), PadTokenId = 0,
            VocabSize = vocab.Length, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 64, MaxSequenceLength = 64, LayerNormEps = 1e-12,
        };
        var model = new RobertaForMaskedLM(config);
        model.InitializeWeights(new Generator(7));
        using (no_grad())
        {
            // Non-zero LayerNorm biases and MLM bias, so a mapping that dropped one would show.
            foreach (var (name, p) in model.named_parameters()) if (name.EndsWith(".bias", StringComparison.Ordinal)) p.normal_(0, 0.02, new Generator(8));
        }
        using var scope = NewDisposeScope();
        var state = HuggingFaceExport.StateDict(model);
        Assert.IsTrue(state.ContainsKey("bert.embeddings.token_type_embeddings.weight") && state.ContainsKey("cls.predictions.transform.LayerNorm.weight"));
        state["bert.pooler.dense.weight"] = randn(32, 32);
        state["bert.pooler.dense.bias"] = zeros(32);
        state["cls.seq_relationship.weight"] = randn(2, 32);
        state["cls.seq_relationship.bias"] = zeros(2);
        state["bert.embeddings.position_ids"] = arange(64L).unsqueeze(0);
        editWeights?.Invoke(state);
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), SafeTensors.ToBytes(state));
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("BertForPreTraining"), ["model_type"] = "bert", ["vocab_size"] = vocab.Length, ["hidden_size"] = 32,
            ["num_hidden_layers"] = 2, ["num_attention_heads"] = 2, ["intermediate_size"] = 64, ["hidden_act"] = "gelu", ["hidden_dropout_prob"] = 0.1,
            ["attention_probs_dropout_prob"] = 0.1, ["max_position_embeddings"] = 64, ["type_vocab_size"] = 2, ["initializer_range"] = 0.02,
            ["layer_norm_eps"] = 1e-12, ["pad_token_id"] = 0, ["position_embedding_type"] = "absolute", ["transformers_version"] = "4.44.0",
        };
        editConfig?.Invoke(json);
        File.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString());
        File.WriteAllText(Path.Combine(directory, "vocab.txt"), string.Join("\n", vocab) + "\n");
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), """{"do_lower_case": true, "tokenizer_class": "BertTokenizer", "model_max_length": 64}""");
        return model;
    }

    [TestMethod]
    public void HuggingFaceBertDirectoryImportsExactlyAndExportsBack()
    {
        using var dir = new TempDir();
        using var original = WriteTinyBertDirectory(dir.Path);
        var (model, tokenizer) = HuggingFaceImport.Import(dir.Path, null, out bool headInitialized);
        using (model)
        {
            Assert.IsFalse(headInitialized, "cls.predictions.* is the MLM head");
            Assert.AreEqual(original.Config, model.Config);
            foreach (var (name, t) in original.NamedTensors()) Assert.IsTrue(TensorAssert.BitEqual(t, model.NamedTensors()[name]), name);
            Assert.AreEqual("bert", tokenizer!.Kind);
            Assert.AreEqual((0, 2, 3), (tokenizer.PadId, tokenizer.BosId, tokenizer.EosId));

            // Export writes HF BERT names back (body bert.*, head cls.predictions.*, tied decoder) and imports bit-exactly.
            using var back = new TempDir();
            HuggingFaceExport.Export(model, tokenizer, back.Path, ExportFormat.Both);
            var written = SafeTensors.Read(File.ReadAllBytes(back.File("model.safetensors")), out _);
            Assert.IsTrue(written.ContainsKey("bert.encoder.layer.1.output.LayerNorm.bias"));
            Assert.IsTrue(TensorAssert.BitEqual(written["cls.predictions.decoder.weight"], model.TokenEmbeddings));
            Assert.IsFalse(written.Keys.Any(k => k.StartsWith("roberta.", StringComparison.Ordinal) || k.StartsWith("lm_head.", StringComparison.Ordinal)));
            var config = JsonNode.Parse(File.ReadAllText(back.File("config.json")))!;
            Assert.AreEqual("bert", (string?)config["model_type"]);
            Assert.AreEqual(2, (int?)config["type_vocab_size"]);
            Assert.AreEqual(64, (int?)config["max_position_embeddings"]);
            foreach (var prefer in new[] { false, true })
            {
                var (again, againTokenizer) = HuggingFaceImport.Import(back.Path, new HuggingFaceImportOptions { PreferPyTorch = prefer });
                using (again)
                {
                    Assert.AreEqual(model.Config, again.Config);
                    foreach (var (name, t) in model.NamedTensors()) Assert.IsTrue(TensorAssert.BitEqual(t, again.NamedTensors()[name]), name);
                    Assert.AreEqual(tokenizer.Fingerprint, againTokenizer!.Fingerprint);
                }
            }
        }
    }

    [TestMethod]
    public void BertPositionsStartAtZeroAndPairsUseBothTokenTypes()
    {
        using var dir = new TempDir();
        using var original = WriteTinyBertDirectory(dir.Path);
        var (model, tokenizer) = HuggingFaceImport.Import(dir.Path);
        using (model)
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            int[] pair = tokenizer!.EncodePair("a man is here", "a woman sleeps", 64);
            var (ids, mask) = MLNetForgetting.Text.PaddedBatch.Create([pair], tokenizer.PadId, CPU);
            var hidden = model.forward(ids, mask);
            // BERT embeddings by hand: word + position (0..T-1) + token type (1 after the first [SEP]), LayerNorm.
            var w = model.NamedTensors();
            int sep = Array.IndexOf(pair, tokenizer.EosId);
            var types = tensor(pair.Select((_, j) => j > sep ? 1L : 0L).ToArray());
            var summed = w["roberta.embeddings.word_embeddings.weight"].index_select(0, ids[0]) + w["roberta.embeddings.position_embeddings.weight"].narrow(0, 0, pair.Length)
                + w["roberta.embeddings.token_type_embeddings.weight"].index_select(0, types);
            var embedded = nn.functional.layer_norm(summed, [32], w["roberta.embeddings.LayerNorm.weight"], w["roberta.embeddings.LayerNorm.bias"], 1e-12);
            var ours = model.Roberta.Embeddings.forward(ids)[0];
            Assert.IsLessThan(1e-5, (ours - embedded).abs().max().item<float>(), "embeddings of a BERT pair");
            Assert.IsTrue(hidden.isfinite().all().item<bool>());
        }
    }

    internal static IDataView Pairs(MLContext ml, int count, int seed) =>
        ml.Data.LoadFromEnumerable(AdaptationTestData.Testbed.NliExamples("en", count, seed).Select(e => new PairRow { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label }).ToList());

    /// <summary>Fits SentencePairClassification on <paramref name="directory"/>'s model, saves the chain to a zip, and compares a new process's scores.</summary>
    internal static void FitSaveAndScoreInChild(string directory, int maxLength, int steps)
    {
        var ml = new MLContext(5);
        var lm = LanguageModelTransformer.FromHuggingFace(ml, directory, maxSequenceLength: maxLength, batchSize: 8);
        var train = Pairs(ml, 48, 2);
        var labelMap = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var trainer = ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
        {
            LanguageModel = lm, Settings = new TaskAdaptationSettings { MaxSteps = steps, BatchSize = 8, LearningRate = 1e-4 },
        });
        var classifier = trainer.Fit(labelMap.Transform(train));
        using var dir = new TempDir();
        string zip = dir.File("model.zip");
        ml.Model.Save(labelMap.Append(classifier), train.Schema, zip);
        var rows = AdaptationTestData.Testbed.NliExamples("en", 12, seed: 9).Select(e => new[] { e.Premise, e.Hypothesis }).ToArray();
        rows[0] = ["Back then, gold was $35 per ounce.", "Gold cost more than $30."]; // BERT's own punctuation handling end to end
        File.WriteAllText(dir.File("in.json"), JsonSerializer.Serialize(rows));
        ChildProcess.RunChecked("score-pairs-zip", zip, dir.File("in.json"), dir.File("out.json"));
        var child = JsonSerializer.Deserialize<float[][]>(File.ReadAllText(dir.File("out.json")))!;
        var expected = classifier.PredictProbabilities(rows.Select(r => r[0]).ToList(), rows.Select(r => r[1]).ToList());
        for (int i = 0; i < rows.Length; i++) CollectionAssert.AreEqual(expected[i], child[i], new FloatComparer(1e-6f), $"row {i}");
        Assert.IsTrue(expected.Select(e => e[0]).Distinct().Count() > 1, "scores differ between rows");
    }

    [TestMethod]
    public void TinyBertFitsInAPipelineAndPredictsIdenticallyInANewProcess()
    {
        using var dir = new TempDir();
        using var _ = WriteTinyBertDirectory(dir.Path);
        FitSaveAndScoreInChild(dir.Path, maxLength: 64, steps: 4);
    }

    [TestMethod]
    [Timeout(240_000, CooperativeCancellation = true)]
    public void MiniLMFitsInAPipelineAndPredictsIdenticallyInANewProcess()
    {
        using var dir = new TempDir();
        MLNetForgetting.Cli.Infrastructure.MiniLMPackage.WriteHuggingFaceDirectory(dir.Path);
        FitSaveAndScoreInChild(dir.Path, maxLength: 48, steps: 2);
    }

    [TestMethod]
    public void MlnfImportConvertsTheMiniLMBackboneAndTheOnnxFile()
    {
        using var dir = new TempDir();
        var r = MLNetForgetting.Tests.Cli.CliRunner.RunOk("import", "--backbone", "minilm", "--hf-output", dir.File("hf"));
        StringAssert.Contains(r.StdOut, "all-MiniLM-L6-v2");
        foreach (var f in new[] { "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json" }) Assert.IsTrue(File.Exists(Path.Combine(dir.File("hf"), f)), f);
        Assert.AreEqual("bert", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(dir.File("hf"), "config.json")))!["model_type"]);

        // --onnx without --vocab, and two sources at once, are usage errors naming the options.
        var noVocab = MLNetForgetting.Tests.Cli.CliRunner.Run("import", "--onnx", dir.File("hf/config.json"), "--output", dir.File("x.zip"));
        Assert.AreNotEqual(0, noVocab.ExitCode);
        StringAssert.Contains(noVocab.StdErr, "--vocab");
        var two = MLNetForgetting.Tests.Cli.CliRunner.Run("import", "--backbone", "minilm", "--input", dir.File("hf"), "--output", dir.File("x.zip"));
        Assert.AreNotEqual(0, two.ExitCode);
        StringAssert.Contains(two.StdErr, "--backbone");
    }

    [TestMethod]
    [DataRow("deberta-v2")]
    [DataRow("gpt2")]
    public void UnsupportedModelTypeIsNamed(string modelType)
    {
        using var dir = new TempDir();
        using var _ = WriteTinyBertDirectory(dir.Path, editConfig: c => c["model_type"] = modelType);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "\"model_type\"");
        StringAssert.Contains(ex.Message, $"'{modelType}'");
        StringAssert.Contains(ex.Message, "config.json");
    }

    [TestMethod]
    public void VocabularySizeDisagreeingWithTheEmbeddingsIsNamed()
    {
        using var dir = new TempDir();
        using var model = WriteTinyBertDirectory(dir.Path, editConfig: c => c["vocab_size"] = (int)c["vocab_size"]! + 5);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "vocab_size");
        StringAssert.Contains(ex.Message, $"{model.Config.VocabSize} rows");
    }

    [TestMethod]
    public void MissingVocabTxtIsNamed()
    {
        using var dir = new TempDir();
        using var _ = WriteTinyBertDirectory(dir.Path);
        File.Delete(dir.File("vocab.txt"));
        var ex = Assert.ThrowsExactly<FileNotFoundException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "vocab.txt");
        Assert.AreEqual(dir.File("vocab.txt"), ex.FileName);
    }

    [TestMethod]
    public void MissingTokenizerFileOfOursIsNamed()
    {
        using var dir = new TempDir();
        using var _ = WriteTinyBertDirectory(dir.Path);
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"format_version": 1, "kind": "bert", "normalization": "nfc-ctrl-v1"}""");
        File.Delete(dir.File("vocab.txt"));
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "'vocab.txt' is missing");
    }

    // ---- ONNX files the converter cannot map (protobuf written by hand, field numbers of onnx.proto3) ----

    private static byte[] Field(int number, byte[] payload) => [.. Varint((ulong)(number << 3 | 2)), .. Varint((ulong)payload.Length), .. payload];
    private static byte[] Field(int number, string text) => Field(number, Encoding.UTF8.GetBytes(text));
    private static byte[] VarintField(int number, long value) => [.. Varint((ulong)(number << 3)), .. Varint((ulong)value)];
    private static byte[] Varint(ulong v)
    {
        var bytes = new List<byte>();
        do { byte b = (byte)(v & 0x7F); v >>= 7; bytes.Add(v == 0 ? b : (byte)(b | 0x80)); } while (v != 0);
        return [.. bytes];
    }

    private static byte[] FloatTensor(string name, params long[] dims)
    {
        long n = dims.Aggregate(1L, (a, d) => a * d);
        var raw = new byte[n * 4];
        return [.. dims.SelectMany(d => VarintField(1, d)), .. VarintField(2, 1), .. Field(8, name), .. Field(9, raw)];
    }

    private static byte[] Node(string name, string op, string[] inputs, string[] outputs) =>
        [.. inputs.SelectMany(i => Field(1, i)), .. outputs.SelectMany(o => Field(2, o)), .. Field(3, name), .. Field(4, op)];

    private static string WriteOnnx(TempDir dir, params byte[][] graphParts)
    {
        byte[] graph = [.. graphParts.SelectMany(p => p)];
        string path = dir.File("broken.onnx");
        File.WriteAllBytes(path, [.. VarintField(1, 7), .. Field(7, graph)]);
        File.WriteAllText(dir.File("vocab.txt"), string.Join("\n", TinyVocabulary()) + "\n");
        return path;
    }

    [TestMethod]
    public void OnnxWeightWithoutABiasAddIsNamed()
    {
        using var dir = new TempDir();
        string onnx = WriteOnnx(dir,
            Field(5, FloatTensor("embeddings.word_embeddings.weight", TinyVocabulary().Length, 8)),
            Field(5, FloatTensor("onnx::MatMul_77", 8, 8)),
            Field(1, Node("MatMul_3", "MatMul", ["x", "onnx::MatMul_77"], ["y"])),
            Field(1, Node("Erf_4", "Erf", ["y"], ["z"])));
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => OnnxConversion.ToHuggingFace(onnx, dir.File("vocab.txt"), dir.File("out")));
        StringAssert.Contains(ex.Message, onnx);
        StringAssert.Contains(ex.Message, "'onnx::MatMul_77'");
        StringAssert.Contains(ex.Message, "'MatMul_3'");
    }

    [TestMethod]
    public void OnnxFusedOperatorIsNamed()
    {
        using var dir = new TempDir();
        string onnx = WriteOnnx(dir,
            Field(5, FloatTensor("embeddings.word_embeddings.weight", TinyVocabulary().Length, 8)),
            Field(5, FloatTensor("embeddings.position_embeddings.weight", 16, 8)),
            Field(5, FloatTensor("encoder.layer.0.intermediate.dense.weight", 16, 8)),
            Field(1, Node("Attention_9", "Attention", ["x"], ["y"])));
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => OnnxConversion.ToHuggingFace(onnx, dir.File("vocab.txt"), dir.File("out")));
        StringAssert.Contains(ex.Message, onnx);
        StringAssert.Contains(ex.Message, "'Attention_9'");
    }

    [TestMethod]
    public void NotAnOnnxFileIsNamed()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("model.onnx"), "this is not protobuf at all, just text that happens to be here");
        File.WriteAllText(dir.File("vocab.txt"), string.Join("\n", TinyVocabulary()) + "\n");
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => OnnxConversion.ToHuggingFace(dir.File("model.onnx"), dir.File("vocab.txt"), dir.File("out")));
        StringAssert.Contains(ex.Message, dir.File("model.onnx"));
    }
}
