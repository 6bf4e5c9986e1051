"""Resources that hold data: retained when the stack goes, deployed apart from the code."""
