using System.Reflection;

namespace MLNetForgetting.Tests.Infrastructure;

/// <summary>Marks a static <c>int Method(string[] args)</c> as a child-process action named <see cref="Name"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChildActionAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>
/// Entry point of the test assembly. Under the test runner it is never called. Run as
/// <c>dotnet MLNetForgetting.Tests.dll child &lt;action&gt; args…</c> it runs the [ChildAction] method
/// of that name, so tests can exercise a fresh process (e.g. load a model zip with nothing registered).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 2 || args[0] != "child") return 0;
        // Resolving a type resolves its base types and interfaces: a test type deriving from or implementing a library
        // type would load MLNetForgetting here, before a child loads a model zip by name. So only public types are
        // scanned ([ChildAction] methods live on public test classes); private helpers may derive from library types.
        var actions = typeof(Program).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(m => (Method: m, Attr: m.GetCustomAttribute<ChildActionAttribute>()))
            .Where(x => x.Attr is not null)
            .ToDictionary(x => x.Attr!.Name, x => x.Method);
        if (!actions.TryGetValue(args[1], out var method))
        {
            Console.Error.WriteLine($"Unknown child action '{args[1]}'. Known: {string.Join(", ", actions.Keys)}");
            return 64;
        }
        try
        {
            return (int)method.Invoke(null, new object[] { args.Skip(2).ToArray() })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            Console.Error.WriteLine(e.InnerException);
            return 70;
        }
    }
}
