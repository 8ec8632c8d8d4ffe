using System.Text.Json;
using ConsumeModel;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;

namespace ServeModel;

/// <summary>
/// A minimal HTTP endpoint over a sentence-pair classifier zip: POST /predict (one pair) and
/// POST /predict/batch (an array of pairs), GET /labels. Prediction engines are not thread-safe, so each
/// request borrows one from a pool (all engines share the one loaded model and its weights).
/// </summary>
public static class PredictionServer
{
    /// <summary>Where the server listens when neither --urls nor ASPNETCORE_URLS says otherwise: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Most pairs accepted in one batch request.</summary>
    public const int MaxBatchPairs = 256;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Builds the app from command-line style <paramref name="args"/>: <c>--model nli.zip</c> (required),
    /// <c>--urls http://127.0.0.1:PORT</c> (port 0 picks a free one) and any other ASP.NET Core setting.
    /// The model is loaded here, so a bad zip fails before anything listens.
    /// </summary>
    /// <exception cref="ArgumentException">No --model was given.</exception>
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        string modelPath = builder.Configuration["model"] is { Length: > 0 } given ? given
            : throw new ArgumentException("--model <zip> is required: a sentence-pair classifier zip (mlnf finetune / mlnf assemble, or run examples/ConsumeModel once to get out/consume/synthetic-nli.zip).");
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(DefaultUrl);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 1 << 20);

        var model = SentencePairModel.Load(modelPath);
        var engines = new EnginePolicy(model);
        builder.Services.AddSingleton(model);
        builder.Services.AddSingleton(engines);
        // Keeps up to two idle engines per core; engines beyond that, made under bursts, are disposed on return.
        builder.Services.AddSingleton(new DefaultObjectPoolProvider { MaximumRetained = 2 * Environment.ProcessorCount }.Create(engines));

        var app = builder.Build();
        app.MapGet("/labels", (SentencePairModel.Loaded m) => Results.Ok(new { labels = m.LabelNames }));
        app.MapPost("/predict", PredictOneAsync);
        app.MapPost("/predict/batch", PredictBatchAsync);
        return app;
    }

    private static async Task<IResult> PredictOneAsync(HttpRequest request, SentencePairModel.Loaded model, ObjectPool<PredictionEngine<SentencePairModel.ModelInput, SentencePairModel.ModelOutput>> pool)
    {
        var (pair, error) = await ReadAsync<PairRequest>(request, "a JSON object {\"sentence1\": ..., \"sentence2\": ...}");
        error ??= pair!.Problem();
        if (error is not null) return BadRequest(error);
        var engine = pool.Get();
        try
        {
            return Results.Ok(Prediction.From(engine.Predict(pair!.ToInput()), model.LabelNames));
        }
        finally { pool.Return(engine); }
    }

    private static async Task<IResult> PredictBatchAsync(HttpRequest request, SentencePairModel.Loaded model)
    {
        var (pairs, error) = await ReadAsync<PairRequest?[]>(request, "a JSON array of {\"sentence1\": ..., \"sentence2\": ...} objects");
        if (error is null && pairs!.Length == 0) error = "the batch is empty";
        if (error is null && pairs!.Length > MaxBatchPairs) error = $"the batch has {pairs.Length} pairs; at most {MaxBatchPairs} per request";
        for (int i = 0; error is null && i < pairs!.Length; i++)
            if ((pairs[i] is null ? "the pair is null" : pairs[i]!.Problem()) is { } problem) error = $"pair {i}: {problem}";
        if (error is not null) return BadRequest(error);
        // One batched transform (a forward pass per block of rows) instead of one engine call per pair.
        var outputs = model.PredictBatch(pairs!.Select(p => p!.ToInput()));
        return Results.Ok(outputs.Select(o => Prediction.From(o, model.LabelNames)).ToArray());
    }

    private static async Task<(T? Value, string? Error)> ReadAsync<T>(HttpRequest request, string expected) where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Json, request.HttpContext.RequestAborted);
            return value is null ? (null, $"the body must be {expected}") : (value, null);
        }
        catch (JsonException e)
        {
            return (null, $"the body is not {expected}: {OneLine(e.Message)}");
        }
    }

    private static IResult BadRequest(string reason) => Results.BadRequest(new ErrorResponse(OneLine(reason)));

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>One pair in a request.</summary>
public sealed record PairRequest(string? Sentence1, string? Sentence2)
{
    internal string? Problem() =>
        string.IsNullOrWhiteSpace(Sentence1) ? "sentence1 is missing or empty"
        : string.IsNullOrWhiteSpace(Sentence2) ? "sentence2 is missing or empty"
        : null;

    internal SentencePairModel.ModelInput ToInput() => new() { Sentence1 = Sentence1!, Sentence2 = Sentence2! };
}

/// <summary>A prediction: the label's name and every label's probability, in the model's label order.</summary>
public sealed record Prediction(string Label, IReadOnlyDictionary<string, float> Scores)
{
    internal static Prediction From(SentencePairModel.ModelOutput output, IReadOnlyList<string> labelNames)
    {
        var scores = new Dictionary<string, float>(labelNames.Count);
        for (int i = 0; i < labelNames.Count; i++) scores[labelNames[i]] = output.Score[i];
        return new Prediction(output.PredictedLabel, scores);
    }
}

/// <summary>The body of a 400 response: one line saying what is wrong.</summary>
public sealed record ErrorResponse(string Error);

/// <summary>Creates pooled engines over the shared model and counts them.</summary>
public sealed class EnginePolicy(SentencePairModel.Loaded model) : IPooledObjectPolicy<PredictionEngine<SentencePairModel.ModelInput, SentencePairModel.ModelOutput>>
{
    private int _created;

    /// <summary>Engines created so far (at most one per request in flight).</summary>
    public int Created => Volatile.Read(ref _created);

    /// <inheritdoc/>
    public PredictionEngine<SentencePairModel.ModelInput, SentencePairModel.ModelOutput> Create()
    {
        Interlocked.Increment(ref _created);
        return model.CreatePredictionEngine();
    }

    /// <inheritdoc/>
    public bool Return(PredictionEngine<SentencePairModel.ModelInput, SentencePairModel.ModelOutput> engine) => true;
}
