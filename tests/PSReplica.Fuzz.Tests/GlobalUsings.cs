global using System;
global using System.Collections.Generic;
global using System.IO;
global using System.Linq;
global using System.Threading;
global using System.Threading.Tasks;
global using PSReplica;
global using PSReplica.Engine.Protocol;
global using PSReplica.Fuzz.Tests.Harness;
global using Xunit;

// One target at a time: a target that spans threads measures the whole process's allocations.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
