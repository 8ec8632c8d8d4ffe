using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ConsumeModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using ServeModel;

namespace MLNetForgetting.Tests.Serving;

/// <summary>
/// The Model Builder-style consumption code (examples/ConsumeModel) and the HTTP endpoint (examples/ServeModel)
/// against the library's own transformer, on one tiny classifier zip trained on the synthetic testbed.
/// </summary>
[TestClass]
public sealed class ServingTests
{
    private static TempDir _dir = null!;
    private static string _zip = null!;
    private static SentencePairClassifierTransformer _library = null!;
    private static List<SentencePairModel.ModelInput> _pairs = null!;
    private static float[][] _expected = null!;

    [ClassInitialize]
    public static void BuildTinyClassifier(TestContext _)
    {
        _dir = new TempDir();
        _zip = _dir.File("tiny-nli.zip");
        SyntheticSampleModel.Build(_zip, SyntheticSampleModel.Budget.Tiny);
        // The reference: the library's transformer as loaded from the same zip, its batched probabilities.
        _library = LoadLibraryClassifier(_zip);
        _pairs = SyntheticSampleModel.Pairs(new SyntheticTestbed(), 24, SyntheticTestbed.DatasetDevSeed);
        _expected = _library.PredictProbabilities(_pairs.Select(p => p.Sentence1).ToList(), _pairs.Select(p => p.Sentence2).ToList());
    }

    [ClassCleanup]
    public static void RemoveZip() => _dir?.Dispose();

    private static SentencePairClassifierTransformer LoadLibraryClassifier(string zip)
    {
        var model = new MLContext().Model.Load(zip, out _);
        return model as SentencePairClassifierTransformer ?? ((IEnumerable<ITransformer>)model).OfType<SentencePairClassifierTransformer>().Single();
    }

    private static void AssertPrediction(int row, string label, IReadOnlyList<float> scores, IReadOnlyList<string> labelNames)
    {
        CollectionAssert.AreEqual(_expected[row], scores.ToArray(), new FloatComparer(1e-5f), $"scores of pair {row}");
        int best = scores.Select((s, i) => (s, i)).MaxBy(x => x.s).i;
        Assert.AreEqual(labelNames[best], label, $"label of pair {row}");
    }

    [TestMethod]
    public void ConsumeModelPredictsWhatTheLibraryPredictsFromTheSameZip()
    {
        SentencePairModel.MLNetModelPath = _zip;
        CollectionAssert.AreEqual(_library.LabelNames.ToArray(), SentencePairModel.GetLabels().ToArray());
        for (int i = 0; i < _pairs.Count; i++)
        {
            var output = SentencePairModel.Predict(new SentencePairModel.ModelInput { Sentence1 = _pairs[i].Sentence1, Sentence2 = _pairs[i].Sentence2 });
            AssertPrediction(i, output.PredictedLabel, output.Score, _library.LabelNames);
            var sorted = SentencePairModel.GetSortedScoresWithLabels(output).ToList();
            Assert.AreEqual(output.PredictedLabel, sorted[0].Key);
            Assert.AreEqual(_expected[i][_library.LabelNames.ToList().IndexOf(sorted[^1].Key)], sorted[^1].Value, 1e-5f);
        }
        Assert.ThrowsExactly<InvalidOperationException>(() => SentencePairModel.MLNetModelPath = "other.zip");

        // A zip saved with its MapValueToKey("Label") step in front (as a pipeline is saved) works the same,
        // row by row and through the batched transform.
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(_pairs);
        string chainZip = _dir.File("chain.zip");
        ml.Model.Save(ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Append(_library), data.Schema, chainZip);
        var loaded = SentencePairModel.Load(chainZip);
        CollectionAssert.AreEqual(_library.LabelNames.ToArray(), loaded.LabelNames.ToArray());
        var engine = loaded.CreatePredictionEngine();
        var batch = loaded.PredictBatch(_pairs);
        for (int i = 0; i < _pairs.Count; i++)
        {
            var output = engine.Predict(_pairs[i]);
            AssertPrediction(i, output.PredictedLabel, output.Score, loaded.LabelNames);
            AssertPrediction(i, batch[i].PredictedLabel, batch[i].Score, loaded.LabelNames);
        }
    }

    [TestMethod]
    public void LoadNamesTheProblemWithAMissingOrWrongZip()
    {
        var missing = Assert.ThrowsExactly<FileNotFoundException>(() => SentencePairModel.Load(_dir.File("nope.zip")));
        StringAssert.Contains(missing.Message, "nope.zip");
        StringAssert.Contains(missing.Message, "mlnf finetune");
        // A language model zip is no classifier: it reads a Text column.
        var ml = new MLContext(1);
        var options = LanguageModelTests.TinyOptions(k: 0);
        options.MaxSteps = 1;
        var lm = LanguageModelTests.Fit(options: options);
        string lmZip = _dir.File("lm.zip");
        ml.Model.Save(lm.Model, lm.Data.Schema, lmZip);
        var wrong = Assert.ThrowsExactly<InvalidDataException>(() => SentencePairModel.Load(lmZip));
        StringAssert.Contains(wrong.Message, "Sentence1 and Sentence2");
        StringAssert.Contains(wrong.Message, "'Text'");
        var noModel = Assert.ThrowsExactly<ArgumentException>(() => PredictionServer.Create(["--urls", "http://127.0.0.1:0"]));
        StringAssert.Contains(noModel.Message, "--model");
    }

    private static async Task<(WebApplication App, HttpClient Client)> StartServerAsync()
    {
        var app = PredictionServer.Create(["--model", _zip, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        var address = new Uri(app.Urls.Single());
        Assert.AreEqual("127.0.0.1", address.Host);
        Assert.AreNotEqual(0, address.Port);
        // No proxy: the calls must go straight to the loopback server whatever the environment says.
        var client = new HttpClient(new HttpClientHandler { UseProxy = false }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        return (app, client);
    }

    private sealed record PredictionDto(string Label, Dictionary<string, float> Scores);

    private static object Body(SentencePairModel.ModelInput pair) => new { sentence1 = pair.Sentence1, sentence2 = pair.Sentence2 };

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ServeModelAnswersConcurrentRequestsOnLoopbackLikeTheLibrary()
    {
        var (app, client) = await StartServerAsync();
        await using var _ = app;
        using var __ = client;
        var labels = (await client.GetFromJsonAsync<JsonElement>("/labels")).GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray();
        CollectionAssert.AreEqual(_library.LabelNames.ToArray(), labels);

        // Four threads released together, each posting its share of the pairs one by one.
        const int threads = 4;
        using var start = new Barrier(threads);
        var results = new PredictionDto?[_pairs.Count];
        var workers = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (int i = t; i < _pairs.Count; i += threads)
            {
                using var response = client.PostAsJsonAsync("/predict", Body(_pairs[i])).GetAwaiter().GetResult();
                Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, $"pair {i}");
                results[i] = response.Content.ReadFromJsonAsync<PredictionDto>().GetAwaiter().GetResult();
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(workers);
        for (int i = 0; i < _pairs.Count; i++)
        {
            CollectionAssert.AreEqual(labels, results[i]!.Scores.Keys.ToArray(), "scores are keyed by label, in label order");
            AssertPrediction(i, results[i]!.Label, results[i]!.Scores.Values.ToArray(), labels);
        }
        int engines = app.Services.GetRequiredService<EnginePolicy>().Created;
        Assert.IsTrue(engines is >= 1 and <= threads, $"{engines} engines for {threads} concurrent clients");

        var batch = await client.PostAsJsonAsync("/predict/batch", _pairs.Select(Body).ToArray());
        Assert.AreEqual(HttpStatusCode.OK, batch.StatusCode);
        var batchResults = (await batch.Content.ReadFromJsonAsync<PredictionDto[]>())!;
        Assert.HasCount(_pairs.Count, batchResults);
        for (int i = 0; i < _pairs.Count; i++) AssertPrediction(i, batchResults[i].Label, batchResults[i].Scores.Values.ToArray(), labels);
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ServeModelRejectsBadRequestsWith400AndAOneLineReason()
    {
        var (app, client) = await StartServerAsync();
        await using var _ = app;
        using var __ = client;
        var cases = new (string Path, string Body, string Reason)[]
        {
            ("/predict", "{\"sentence1\": \"the dog sees the cat\"", "is not a JSON object"),
            ("/predict", "", "is not a JSON object"),
            ("/predict", "null", "the body must be a JSON object"),
            ("/predict", "{\"sentence1\": \"the dog sees the cat\"}", "sentence2 is missing or empty"),
            ("/predict", "{\"sentence1\": \"  \", \"sentence2\": \"the cat\"}", "sentence1 is missing or empty"),
            ("/predict", "{\"sentence1\": 5, \"sentence2\": \"the cat\"}", "$.sentence1"),
            ("/predict/batch", "[]", "the batch is empty"),
            ("/predict/batch", "{\"sentence1\": \"a\", \"sentence2\": \"b\"}", "is not a JSON array"),
            ("/predict/batch", "[{\"sentence1\": \"a\", \"sentence2\": \"b\"}, {\"sentence1\": \"a\"}]", "pair 1: sentence2 is missing or empty"),
            ("/predict/batch", "[{\"sentence1\": \"a\", \"sentence2\": \"b\"}, null]", "pair 1: the pair is null"),
            ("/predict/batch", "[" + string.Join(",", Enumerable.Repeat("{\"sentence1\": \"a\", \"sentence2\": \"b\"}", PredictionServer.MaxBatchPairs + 1)) + "]", $"at most {PredictionServer.MaxBatchPairs}"),
        };
        foreach (var (path, body, reason) in cases)
        {
            using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            string text = await response.Content.ReadAsStringAsync();
            Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode, $"{path} {body[..Math.Min(body.Length, 60)]}: {text}");
            string error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
            StringAssert.Contains(error, reason, $"{path} {body[..Math.Min(body.Length, 60)]}");
            Assert.IsFalse(error.Contains('\n'), $"the reason is not one line: {error}");
        }
        // The server still answers good requests afterwards.
        using var ok = await client.PostAsJsonAsync("/predict", Body(_pairs[0]));
        Assert.AreEqual(HttpStatusCode.OK, ok.StatusCode);
    }
}
