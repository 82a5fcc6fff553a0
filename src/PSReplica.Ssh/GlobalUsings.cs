// The BCL namespaces most of the transport's files open; each file names only what is particular to it.
global using System;
global using System.Collections.Generic;
global using System.IO;
global using System.Threading;
global using System.Threading.Tasks;
