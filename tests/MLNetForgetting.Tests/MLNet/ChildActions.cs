using System.Text.Json;
using Microsoft.ML;
using MLNetForgetting.Tests.Infrastructure;

namespace MLNetForgetting.Tests.MLNet;

/// <summary>
/// Child-process side of the round-trip test. Touches only ML.NET: the zip alone must bring in
/// MLNetForgetting (by the loader assembly name in its header), with no registration call.
/// </summary>
public static class ModelZipChildActions
{
    public sealed record Output(bool LibraryLoadedBeforeLoad, bool LibraryLoadedAfterLoad, float[][] Transform, float[][] Engine);

    /// <summary>Args: model zip, input JSON (float[][] features), output JSON path.</summary>
    [ChildAction("predict-zip")]
    public static int PredictZip(string[] args)
    {
        string zip = args[0], input = args[1], output = args[2];
        static bool LibraryLoaded() => AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "MLNetForgetting");
        bool before = LibraryLoaded();

        var ml = new MLContext();
        var model = ml.Model.Load(zip, out _);
        bool after = LibraryLoaded();

        var features = JsonSerializer.Deserialize<float[][]>(File.ReadAllText(input))!;
        var rows = features.Select((f, i) => new FeatureRow { Id = $"child{i}", Features = f }).ToArray();
        var viaTransform = ml.Data.CreateEnumerable<ProjectionRow>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false)
            .Select(r => r.Projection).ToArray();
        using var engine = ml.Model.CreatePredictionEngine<FeatureRow, ProjectionRow>(model);
        var viaEngine = rows.Select(r => engine.Predict(r).Projection.ToArray()).ToArray();

        File.WriteAllText(output, JsonSerializer.Serialize(new Output(before, after, viaTransform, viaEngine)));
        return 0;
    }
}
