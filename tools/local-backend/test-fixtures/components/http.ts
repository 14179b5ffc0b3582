import { httpRouter } from "convex/server";
import { stream } from "./streams";

const http = httpRouter();

http.route({ path: "/stream", method: "POST", handler: stream });

export default http;
