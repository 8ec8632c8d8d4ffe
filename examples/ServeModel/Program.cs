// Serves a sentence-pair classifier zip over HTTP on 127.0.0.1 (see README.md and PredictionServer.cs).
//
//   dotnet run -c Release --project examples/ServeModel -- --model out/consume/synthetic-nli.zip [--urls http://127.0.0.1:5080]
//   curl -s localhost:5080/predict -H 'Content-Type: application/json' -d '{"sentence1":"the dog sees the cat","sentence2":"the animal sees the cat"}'
using ServeModel;

WebApplication app;
try
{
    app = PredictionServer.Create(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (Exception e) when (e is FileNotFoundException or InvalidDataException or FormatException or InvalidOperationException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
app.Run();
return 0;
